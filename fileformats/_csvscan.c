/*
 * _trialpack_csv: the raw CSV reader's record layout in C (optional; fileformats.rawio falls
 * back to numpy, and tests hold the two equal).
 *
 * record_layout(data, delimiter, out) reads UTF-8 CSV bytes with "\n" line ends once, by the
 * strict grammar of fileformats.rawio._record_layout: a double quote opens a quoted field only
 * at the start of a field (the file's start, or after the delimiter or a line end); inside,
 * "" is a quote; a closing quote must be followed by the delimiter, a line end or the end of
 * the file. Delimiters and line ends inside quoted fields separate nothing.
 *
 * `out` is a writable int64 buffer of 3 x capacity (capacity >= line ends + 1): row 0 gets
 * each record's start, row 1 its end (the line end excluded), row 2 its number of fields (0
 * for an empty line). Returns the number of records, or -1 when the grammar does not apply
 * (a quote inside an unquoted field, text after a closing quote, an unclosed quote): the
 * caller then reads the file with the csv module, which names the row. The loop holds no
 * Python object and releases the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static Py_ssize_t scan(const unsigned char *data, Py_ssize_t n, unsigned char sep, int64_t *starts,
                       int64_t *ends, int64_t *widths, Py_ssize_t capacity)
{
    Py_ssize_t records = 0, start = 0, delims = 0, closed_at = -2;
    int quoted = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = data[i];
        if (quoted) {
            if (c == '"') {
                quoted = 0;
                closed_at = i;
            }
            continue;
        }
        if (closed_at == i - 1 && c != '"' && c != sep && c != '\n')
            return -1; /* text after a closing quote */
        if (c == '"') {
            if (closed_at != i - 1 && i > 0 && data[i - 1] != sep && data[i - 1] != '\n')
                return -1; /* a quote inside an unquoted field */
            quoted = 1;    /* a field opens, or "" continues the one just closed */
        } else if (c == sep) {
            delims++;
        } else if (c == '\n') {
            if (records >= capacity)
                return -2;
            starts[records] = start;
            ends[records] = i;
            widths[records] = i == start ? 0 : delims + 1;
            records++;
            start = i + 1;
            delims = 0;
        }
    }
    if (quoted)
        return -1; /* an unclosed quote */
    if (n > 0 && data[n - 1] != '\n') {
        if (records >= capacity)
            return -2;
        starts[records] = start;
        ends[records] = n;
        widths[records] = delims + 1;
        records++;
    }
    return records;
}

static PyObject *record_layout(PyObject *self, PyObject *args)
{
    Py_buffer data, out;
    int sep;
    if (!PyArg_ParseTuple(args, "y*iw*", &data, &sep, &out))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t capacity = out.len / (3 * (Py_ssize_t)sizeof(int64_t));
    if (sep < 0 || sep > 127 || sep == '"' || sep == '\n') {
        PyErr_SetString(PyExc_ValueError, "the delimiter must be one ASCII byte other than a quote or a line end");
        goto done;
    }
    int64_t *table = (int64_t *)out.buf;
    Py_ssize_t records;
    Py_BEGIN_ALLOW_THREADS
    records = scan((const unsigned char *)data.buf, data.len, (unsigned char)sep, table, table + capacity,
                   table + 2 * capacity, capacity);
    Py_END_ALLOW_THREADS
    if (records == -2) {
        PyErr_SetString(PyExc_ValueError, "more records than the output buffer holds");
        goto done;
    }
    result = PyLong_FromSsize_t(records);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"record_layout", record_layout, METH_VARARGS,
     "record_layout(data, delimiter, out) -> records, or -1 where the strict grammar does not apply"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_trialpack_csv",
    "The raw CSV reader's record layout in C (see fileformats.rawio).", -1, methods,
};

PyMODINIT_FUNC PyInit__trialpack_csv(void)
{
    return PyModule_Create(&module);
}
