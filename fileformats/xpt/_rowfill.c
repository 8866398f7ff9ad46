/*
 * _trialpack_xpt: the XPT v5 row fill in C (optional; fileformats.xpt falls back to numpy).
 *
 * Each function writes one variable of rows [start, stop) into a chunk of observation
 * records: `out` is the chunk (row_length bytes per row, row `start` first) and the
 * variable's bytes begin at `position` in each row. The caller (fileformats.xpt._text and
 * _numeric) has already checked every value: lengths fit the width, numbers lie in the
 * IBM range, text is valid. The loops repeat those bounds checks that keep memory safe
 * (a length over the width or an offset outside its buffer raises ValueError) and
 * release the GIL, so two threads can fill two chunks at once.
 *
 * put_ibm     float64 values -> 8-byte big-endian IBM doubles (SAS TS-140), NaN -> the
 *             row's missing code ('.' or a special one: '_', 'A'-'Z'), then seven NULs.
 * put_text    Arrow string/large_string values (offsets + data), blank-padded; a null
 *             (validity byte 0) is all blanks.
 * put_items   rows copied from fixed-width items: by integer codes into a table (a
 *             negative code takes the table's last item, the blank one), by byte offsets
 *             into a buffer (windows), or row i from item i (index None).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static int check_out(Py_buffer *out, Py_ssize_t position, Py_ssize_t width, Py_ssize_t row_length,
                     Py_ssize_t rows)
{
    if (position < 0 || width < 0 || row_length <= 0 || position + width > row_length || rows < 0 ||
        out->len < rows * row_length) {
        PyErr_SetString(PyExc_ValueError, "column does not fit the chunk buffer");
        return -1;
    }
    return 0;
}

/* An optional buffer argument: None leaves `view` empty (view->obj NULL, which
 * PyBuffer_Release skips). */
static int optional_buffer(PyObject *obj, Py_buffer *view)
{
    return obj == Py_None ? 0 : PyObject_GetBuffer(obj, view, PyBUF_SIMPLE);
}

/* The IBM bit pattern of a finite double inside the IBM range (as fileformats.xpt._ibm.ieee_to_ibm). */
static inline uint64_t ieee_to_ibm(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, 8);
    if (x == 0.0)
        return 0;
    uint64_t biased = (bits >> 52) & 0x7FF;
    uint64_t shift = (biased + 1) & 3;
    uint64_t exponent = ((biased - 763) >> 2) << 56;
    uint64_t fraction = ((bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52)) << shift;
    return fraction | exponent | (bits & (UINT64_C(1) << 63));
}

static inline void store_big_endian(unsigned char *to, uint64_t value)
{
#if PY_LITTLE_ENDIAN && (defined(__GNUC__) || defined(__clang__))
    value = __builtin_bswap64(value);
    memcpy(to, &value, 8);
#else
    for (int i = 7; i >= 0; i--) {
        to[i] = (unsigned char)(value & 0xFF);
        value >>= 8;
    }
#endif
}

static PyObject *put_ibm(PyObject *self, PyObject *args)
{
    Py_buffer out, values, codes = {0};
    Py_ssize_t position, row_length, start, stop;
    PyObject *codes_obj;
    if (!PyArg_ParseTuple(args, "w*nny*Onn", &out, &position, &row_length, &values, &codes_obj,
                          &start, &stop))
        return NULL;
    PyObject *result = NULL;
    if (optional_buffer(codes_obj, &codes) < 0)
        goto done;
    if (check_out(&out, position, 8, row_length, stop - start) < 0)
        goto done;
    if (start < 0 || stop * 8 > values.len || (codes.obj && stop > codes.len)) {
        PyErr_SetString(PyExc_ValueError, "rows outside the column");
        goto done;
    }
    {
        const double *x = (const double *)values.buf;
        const unsigned char *code = codes.obj ? (const unsigned char *)codes.buf : NULL;
        unsigned char *row = (unsigned char *)out.buf + position;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = start; i < stop; i++, row += row_length) {
            double v = x[i];
            if (v != v) {
                unsigned char first = (code && code[i]) ? code[i] : '.';
                memset(row, 0, 8);
                row[0] = first;
            } else {
                store_big_endian(row, ieee_to_ibm(v));
            }
        }
        Py_END_ALLOW_THREADS
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&out);
    PyBuffer_Release(&values);
    PyBuffer_Release(&codes);
    return result;
}

#define BLANK8 UINT64_C(0x2020202020202020)

/* KEEP[n]: the mask of the first n bytes of a little-endian word. */
static const uint64_t KEEP[9] = {
    0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFF, 0xFFFFFFFFFFFF, 0xFFFFFFFFFFFFFF,
    ~UINT64_C(0),
};

/* Bytes [o, o + 8) of a value of n = length - o remaining bytes, blank-padded, read from
 * src + o (the caller guarantees 8 readable bytes there). Little-endian only. */
static inline uint64_t padded_word(const unsigned char *src, int64_t n)
{
    uint64_t word, mask;
    memcpy(&word, src, 8);
    n = n < 0 ? 0 : n;
    mask = KEEP[n > 8 ? 8 : n];
    return (word & mask) | (BLANK8 & ~mask);
}

/* One value blank-padded to `width` bytes at `row`. With 8-byte words where the value's
 * bytes can be over-read within the data buffer (the words past the value are masked),
 * else with memcpy and memset. */
static inline void put_padded(unsigned char *row, const unsigned char *src, int64_t length,
                              Py_ssize_t width, int words)
{
    if (words) {
        Py_ssize_t o = 0;
        for (; o + 8 <= width; o += 8) {
            uint64_t word = padded_word(src + o, length - o);
            memcpy(row + o, &word, 8);
        }
        if (o < width) {   /* the last, overlapping word: bytes [width - 8, width) */
            uint64_t word = padded_word(src + width - 8, length - (width - 8));
            memcpy(row + width - 8, &word, 8);
        }
        return;
    }
    memcpy(row, src, (size_t)length);
    memset(row + length, ' ', (size_t)(width - length));
}

static PyObject *put_text(PyObject *self, PyObject *args)
{
    Py_buffer out, offsets, data, valid = {0};
    Py_ssize_t position, row_length, width, offset_size, start, stop;
    PyObject *valid_obj;
    if (!PyArg_ParseTuple(args, "w*nnny*ny*Onn", &out, &position, &row_length, &width, &offsets,
                          &offset_size, &data, &valid_obj, &start, &stop))
        return NULL;
    PyObject *result = NULL;
    if (optional_buffer(valid_obj, &valid) < 0)
        goto done;
    if (check_out(&out, position, width, row_length, stop - start) < 0)
        goto done;
    if ((offset_size != 4 && offset_size != 8) || start < 0 ||
        (stop + 1) * offset_size > offsets.len || (valid.obj && stop > valid.len)) {
        PyErr_SetString(PyExc_ValueError, "rows outside the column");
        goto done;
    }
    {
        const char *bytes = (const char *)data.buf;
        const unsigned char *ok = valid.obj ? (const unsigned char *)valid.buf : NULL;
        unsigned char *row = (unsigned char *)out.buf + position;
        Py_ssize_t bad = -1;
        const int little_endian = PY_LITTLE_ENDIAN;
        const Py_ssize_t reach = (width + 7) / 8 * 8;   /* bytes the word path reads */
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = start; i < stop; i++, row += row_length) {
            int64_t from, to;
            if (offset_size == 4) {
                from = ((const int32_t *)offsets.buf)[i];
                to = ((const int32_t *)offsets.buf)[i + 1];
            } else {
                from = ((const int64_t *)offsets.buf)[i];
                to = ((const int64_t *)offsets.buf)[i + 1];
            }
            if (ok && !ok[i]) {
                memset(row, ' ', (size_t)width);
                continue;
            }
            if (from < 0 || to < from || to - from > width || to > data.len) {
                bad = i;
                break;
            }
            put_padded(row, (const unsigned char *)bytes + from, to - from, width,
                       little_endian && width >= 8 && from + reach <= data.len);
        }
        Py_END_ALLOW_THREADS
        if (bad >= 0) {
            PyErr_Format(PyExc_ValueError, "value at row %zd does not fit its width", bad);
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&out);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    PyBuffer_Release(&valid);
    return result;
}

static PyObject *put_items(PyObject *self, PyObject *args)
{
    Py_buffer out, source, index = {0};
    Py_ssize_t position, row_length, width, index_size, start, stop;
    PyObject *index_obj;
    int by_offset;
    if (!PyArg_ParseTuple(args, "w*nnny*Onpnn", &out, &position, &row_length, &width, &source,
                          &index_obj, &index_size, &by_offset, &start, &stop))
        return NULL;
    PyObject *result = NULL;
    if (optional_buffer(index_obj, &index) < 0)
        goto done;
    if (check_out(&out, position, width, row_length, stop - start) < 0)
        goto done;
    if ((index_size != 4 && index_size != 8) || start < 0 || width <= 0 || source.len < width ||
        (index.obj && stop * index_size > index.len)) {
        PyErr_SetString(PyExc_ValueError, "rows outside the column");
        goto done;
    }
    {
        const char *from = (const char *)source.buf;
        const void *at_index = index.obj ? index.buf : NULL;
        unsigned char *row = (unsigned char *)out.buf + position;
        Py_ssize_t last = by_offset ? source.len - width : (source.len / width - 1) * width;
        Py_ssize_t bad = -1;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = start; i < stop; i++, row += row_length) {
            int64_t at;
            if (!at_index) {
                at = (int64_t)i * width;
            } else {
                int64_t k = index_size == 4 ? ((const int32_t *)at_index)[i] : ((const int64_t *)at_index)[i];
                at = by_offset ? k : (k < 0 ? last : k * width);
            }
            if (at < 0 || at > last) {
                bad = i;
                break;
            }
            memcpy(row, from + at, (size_t)width);
        }
        Py_END_ALLOW_THREADS
        if (bad >= 0) {
            PyErr_Format(PyExc_ValueError, "row %zd refers outside its items", bad);
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&out);
    PyBuffer_Release(&source);
    PyBuffer_Release(&index);
    return result;
}

static PyMethodDef methods[] = {
    {"put_ibm", put_ibm, METH_VARARGS,
     "put_ibm(out, position, row_length, values, codes, start, stop): float64 values as IBM doubles"},
    {"put_text", put_text, METH_VARARGS,
     "put_text(out, position, row_length, width, offsets, offset_size, data, valid, start, stop): "
     "Arrow text blank-padded"},
    {"put_items", put_items, METH_VARARGS,
     "put_items(out, position, row_length, width, source, index, index_size, by_offset, start, stop): "
     "fixed-width items by code, by byte offset or (index None) row by row"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_trialpack_xpt",
    "XPT v5 row fill in C for fileformats.xpt (optional; numpy does the same without it).", -1, methods,
};

PyMODINIT_FUNC PyInit__trialpack_xpt(void)
{
    return PyModule_Create(&module);
}
