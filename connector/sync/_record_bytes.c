/* The exact bytes of a canonical record, for its fingerprint (connector/sync/fingerprint.py, "native encoding").
 *
 * An optional speed-up: the package works without it (setup.py builds it when a C compiler is there), and
 * fingerprint.py then encodes records in Python (``marshal``), with marks of another prefix.  The plan of
 * 100,000 unchanged rows spends most of its time fingerprinting records (issue 16): this writes and hashes them
 * in about a third of the time the Python encoding takes.
 *
 * The encoding is injective and prefix-free: every value is a tag byte, then what the tag says, lengths as
 * LEB128 varints.  Only exact types are written (a subclass of str, int, list, dict or of a model class, a set,
 * any other object, nesting deeper than MAX_DEPTH: the whole record is "unfit" and ``encode`` returns None, so
 * fingerprint.py falls back to the Python encoding).  It reads the objects only and runs no Python code of
 * theirs: model fields are read from their slots (a field that is not a slot would be read by name), a Decimal's
 * text comes from its own C code, and nothing is compared or hashed.
 *
 *   N None; T True; F False; A the ABSENT sentinel
 *   i int (8 bytes, little-endian two's complement; a larger int is unfit)
 *   f float: its 8 bytes (IEEE 754, the machine's order: marks are not moved between machines of two orders)
 *   d Decimal: its exact text (str(): sign, digits, exponent; varint length, ASCII)
 *   s str: its PEP 393 kind (1, 2 or 4), varint length in code points, its data as held (a str's kind is the
 *     narrowest that holds it, so equal strings write the same bytes and different ones different bytes)
 *   b bytes: varint length, data
 *   [ list, ( tuple: varint count, items;  { dict: varint count, then key and value of each, in order
 *   o a model object: the index of its class (one byte, as given to setup), then its fields in the order given
 *
 * VERSION changes whenever the encoding does: fingerprint.py puts it in the marks' scheme, so marks written by
 * another encoding never equal a fingerprint of this one. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

/* SHA-256 with the x86 SHA extensions, for ``fingerprint``: the record's bytes are hashed where they are written,
 * instead of being handed to hashlib as a bytes object (which hashes them with the same instructions).  Built only
 * for x86-64 with GCC or Clang, and used only where the processor has them (``HAS_SHA``); elsewhere fingerprint.py
 * hashes ``encode``'s bytes with hashlib: the same hash either way. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WITH_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* The compression function over ``blocks`` 64-byte blocks. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
sha256_blocks(uint32_t state[8], const unsigned char *data, size_t blocks)
{
    const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i state1 = _mm_loadu_si128((const __m128i *)&state[4]);
    tmp = _mm_shuffle_epi32(tmp, 0xB1);                /* CDAB */
    state1 = _mm_shuffle_epi32(state1, 0x1B);          /* EFGH */
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);  /* ABEF */
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);       /* CDGH */
    for (size_t b = 0; b < blocks; b++, data += 64) {
        __m128i abef = state0, cdgh = state1, w[16];
        for (int i = 0; i < 16; i++) {
            if (i < 4) {
                w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), mask);
            } else {
                __m128i sum = _mm_add_epi32(_mm_sha256msg1_epu32(w[i - 4], w[i - 3]),
                                            _mm_alignr_epi8(w[i - 1], w[i - 2], 4));
                w[i] = _mm_sha256msg2_epu32(sum, w[i - 1]);
            }
            __m128i message = _mm_add_epi32(w[i], _mm_loadu_si128((const __m128i *)&K256[4 * i]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, message);
            state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(message, 0x0E));
        }
        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
    }
    tmp = _mm_shuffle_epi32(state0, 0x1B);              /* FEBA */
    state1 = _mm_shuffle_epi32(state1, 0xB1);           /* DCHG */
    state0 = _mm_blend_epi16(tmp, state1, 0xF0);        /* DCBA */
    state1 = _mm_alignr_epi8(state1, tmp, 8);           /* ABEF */
    _mm_storeu_si128((__m128i *)&state[0], state0);
    _mm_storeu_si128((__m128i *)&state[4], state1);
}

static int
has_sha_extensions(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
        return 0;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 29)) != 0; /* SHA */
}
#else
#define WITH_SHA_NI 0
#endif

static int has_sha = 0;

#define VERSION 1
#define MAX_DEPTH 64
#define MAX_CLASSES 16
#define MAX_FIELDS 64

typedef struct {
    PyTypeObject *type;
    Py_ssize_t count;
    Py_ssize_t offsets[MAX_FIELDS]; /* slot offsets (object pointer fields), or -1: read by name */
    PyObject *names[MAX_FIELDS];
} ModelClass;

static ModelClass classes[MAX_CLASSES];
static int class_count = 0;
static PyObject *absent = NULL;
static PyTypeObject *decimal_type = NULL;

typedef struct {
    char *data;
    Py_ssize_t size;
    Py_ssize_t capacity;
} Buffer;

/* One buffer kept between calls (the GIL is held throughout a call), so that a record is not a malloc and a free
 * of the C heap each (whose locks cost as much as the hashing).  A call made while it is in use (a finalizer run
 * by the collector in the middle of one) gets a buffer of its own. */
static char *kept_data = NULL;
static Py_ssize_t kept_capacity = 0;
static int kept_busy = 0;
#define KEPT_AT_MOST (1 << 20)

static int
buffer_open(Buffer *buf)
{
    buf->size = 0;
    if (!kept_busy) {
        if (kept_data == NULL) {
            kept_data = PyMem_Malloc(4096);
            if (kept_data == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            kept_capacity = 4096;
        }
        kept_busy = 1;
        buf->data = kept_data;
        buf->capacity = kept_capacity;
        return 0;
    }
    buf->data = PyMem_Malloc(2048);
    buf->capacity = 2048;
    if (buf->data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void
buffer_close(Buffer *buf, int was_kept)
{
    if (!was_kept) {
        PyMem_Free(buf->data);
        return;
    }
    kept_busy = 0;
    if (buf->capacity > KEPT_AT_MOST) { /* (a huge record: not kept) */
        PyMem_Free(buf->data);
        kept_data = NULL;
        kept_capacity = 0;
    } else {
        kept_data = buf->data;
        kept_capacity = buf->capacity;
    }
}

static int
reserve(Buffer *buf, Py_ssize_t extra)
{
    if (extra > PY_SSIZE_T_MAX - buf->size) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t needed = buf->size + extra;
    if (needed <= buf->capacity)
        return 0;
    Py_ssize_t capacity = buf->capacity;
    while (capacity < needed) {
        if (capacity > PY_SSIZE_T_MAX / 2) {
            capacity = needed;
            break;
        }
        capacity *= 2;
    }
    char *grown = PyMem_Realloc(buf->data, (size_t)capacity);
    if (grown == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buf->data = grown;
    buf->capacity = capacity;
    return 0;
}

static int
put_byte(Buffer *buf, unsigned char byte)
{
    if (reserve(buf, 1) < 0)
        return -1;
    buf->data[buf->size++] = (char)byte;
    return 0;
}

static int
put_varint(Buffer *buf, size_t value)
{
    if (reserve(buf, 10) < 0)
        return -1;
    do {
        unsigned char byte = value & 0x7F;
        value >>= 7;
        buf->data[buf->size++] = (char)(value ? (byte | 0x80) : byte);
    } while (value);
    return 0;
}

static int
put_bytes(Buffer *buf, const void *data, Py_ssize_t length)
{
    if (reserve(buf, length) < 0)
        return -1;
    memcpy(buf->data + buf->size, data, (size_t)length);
    buf->size += length;
    return 0;
}

/* A tag, then the ASCII text of ``text`` (the exact str of a Decimal, made by its own C code). */
static int
put_text(Buffer *buf, unsigned char tag, PyObject *text)
{
    if (text == NULL)
        return -1;
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_ASCII(text)) {
        Py_DECREF(text);
        return 1;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int failed = put_byte(buf, tag) < 0 || put_varint(buf, (size_t)length) < 0
                 || put_bytes(buf, PyUnicode_DATA(text), length) < 0;
    Py_DECREF(text);
    return failed ? -1 : 0;
}

/* 0: written; 1: unfit (a value this encoding does not write exactly); -1: a Python error is set. */
static int encode_value(Buffer *buf, PyObject *value, int depth);

static int
encode_items(Buffer *buf, unsigned char tag, PyObject *sequence, int depth)
{
    /* a list or tuple, held (a new reference) by the caller; a list's size read again at each item */
    int is_list = PyList_CheckExact(sequence);
    Py_ssize_t count = is_list ? PyList_GET_SIZE(sequence) : PyTuple_GET_SIZE(sequence);
    if (put_byte(buf, tag) < 0 || put_varint(buf, (size_t)count) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (is_list && PyList_GET_SIZE(sequence) != count)
            return 1; /* changed while written (a finalizer run by the collector): not written exactly */
        PyObject *item = is_list ? PyList_GET_ITEM(sequence, i) : PyTuple_GET_ITEM(sequence, i);
        Py_INCREF(item);
        int result = encode_value(buf, item, depth + 1);
        Py_DECREF(item);
        if (result != 0)
            return result;
    }
    return 0;
}

static int
encode_dict(Buffer *buf, PyObject *dict, int depth)
{
    Py_ssize_t count = PyDict_GET_SIZE(dict);
    if (put_byte(buf, '{') < 0 || put_varint(buf, (size_t)count) < 0)
        return -1;
    Py_ssize_t position = 0, seen = 0;
    PyObject *key, *item;
    while (PyDict_Next(dict, &position, &key, &item)) {
        if (++seen > count || PyDict_GET_SIZE(dict) != count)
            return 1;
        Py_INCREF(key);
        Py_INCREF(item);
        int result = encode_value(buf, key, depth + 1);
        if (result == 0)
            result = encode_value(buf, item, depth + 1);
        Py_DECREF(key);
        Py_DECREF(item);
        if (result != 0)
            return result;
    }
    return seen == count ? 0 : 1;
}

static int
encode_model(Buffer *buf, int index, PyObject *object, int depth)
{
    ModelClass *model = &classes[index];
    if (put_byte(buf, 'o') < 0 || put_byte(buf, (unsigned char)index) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < model->count; i++) {
        PyObject *field;
        if (model->offsets[i] >= 0) {
            field = *(PyObject **)((char *)object + model->offsets[i]);
            if (field == NULL)
                return 1; /* a slot never set */
            Py_INCREF(field);
        } else {
            field = PyObject_GetAttr(object, model->names[i]);
            if (field == NULL) {
                PyErr_Clear();
                return 1;
            }
        }
        int result = encode_value(buf, field, depth + 1);
        Py_DECREF(field);
        if (result != 0)
            return result;
    }
    return 0;
}

static int
encode_value(Buffer *buf, PyObject *value, int depth)
{
    if (depth > MAX_DEPTH)
        return 1;
    PyTypeObject *type = Py_TYPE(value);
    if (type == &PyUnicode_Type) {
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(value) < 0)
            return -1;
#endif
        int kind = PyUnicode_KIND(value);
        Py_ssize_t length = PyUnicode_GET_LENGTH(value);
        if (length > PY_SSIZE_T_MAX / kind)
            return 1;
        if (put_byte(buf, 's') < 0 || put_byte(buf, (unsigned char)kind) < 0
            || put_varint(buf, (size_t)length) < 0 || put_bytes(buf, PyUnicode_DATA(value), length * kind) < 0)
            return -1;
        return 0;
    }
    if (value == Py_None)
        return put_byte(buf, 'N');
    if (value == Py_True)
        return put_byte(buf, 'T');
    if (value == Py_False)
        return put_byte(buf, 'F');
    if (value == absent)
        return put_byte(buf, 'A');
    if (type == &PyLong_Type) {
        int overflow = 0;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (number == -1 && PyErr_Occurred())
            return -1;
        if (overflow)
            return 1; /* beyond 64 bits: the Python encoding writes it */
        unsigned char bytes[8];
        unsigned long long bits = (unsigned long long)number;
        for (int i = 0; i < 8; i++)
            bytes[i] = (unsigned char)(bits >> (8 * i));
        if (put_byte(buf, 'i') < 0 || put_bytes(buf, bytes, 8) < 0)
            return -1;
        return 0;
    }
    if (type == decimal_type)
        return put_text(buf, 'd', type->tp_str(value));
    for (int i = 0; i < class_count; i++) {
        if (type == classes[i].type)
            return encode_model(buf, i, value, depth);
    }
    if (type == &PyList_Type || type == &PyTuple_Type) {
        Py_INCREF(value);
        int result = encode_items(buf, type == &PyList_Type ? '[' : '(', value, depth);
        Py_DECREF(value);
        return result;
    }
    if (type == &PyDict_Type) {
        Py_INCREF(value);
        int result = encode_dict(buf, value, depth);
        Py_DECREF(value);
        return result;
    }
    if (type == &PyFloat_Type) {
        double number = PyFloat_AS_DOUBLE(value);
        if (put_byte(buf, 'f') < 0 || put_bytes(buf, &number, sizeof number) < 0)
            return -1;
        return 0;
    }
    if (type == &PyBytes_Type) {
        Py_ssize_t length = PyBytes_GET_SIZE(value);
        if (put_byte(buf, 'b') < 0 || put_varint(buf, (size_t)length) < 0
            || put_bytes(buf, PyBytes_AS_STRING(value), length) < 0)
            return -1;
        return 0;
    }
    return 1;
}

static PyObject *
record_encode(PyObject *module, PyObject *record)
{
    if (class_count == 0) {
        PyErr_SetString(PyExc_RuntimeError, "setup() was not called");
        return NULL;
    }
    Buffer buf;
    int kept = !kept_busy;
    if (buffer_open(&buf) < 0)
        return NULL;
    int result = encode_value(&buf, record, 0);
    PyObject *out = NULL;
    if (result == 0)
        out = PyBytes_FromStringAndSize(buf.data, buf.size);
    else if (result == 1 && !PyErr_Occurred())
        out = Py_NewRef(Py_None);
    buffer_close(&buf, kept);
    return out;
}

#if WITH_SHA_NI
/* fingerprint(record, prefix, mark) -> str | None: ``mark`` then the first 32 hex digits of
 * sha256(prefix + encode(record)), what fingerprint.py computes with hashlib; None where ``encode`` gives None. */
static PyObject *
record_fingerprint(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyBytes_CheckExact(args[1]) || !PyUnicode_CheckExact(args[2]) || !PyUnicode_IS_ASCII(args[2])) {
        PyErr_SetString(PyExc_TypeError, "fingerprint(record, prefix: bytes, mark: ASCII str)");
        return NULL;
    }
    if (!has_sha) {
        PyErr_SetString(PyExc_RuntimeError, "this processor has no SHA extensions (HAS_SHA is False)");
        return NULL;
    }
    if (class_count == 0) {
        PyErr_SetString(PyExc_RuntimeError, "setup() was not called");
        return NULL;
    }
    Py_ssize_t prefix_size = PyBytes_GET_SIZE(args[1]);
    Buffer buf;
    int kept = !kept_busy;
    if (buffer_open(&buf) < 0)
        return NULL;
    PyObject *out = NULL;
    int result = put_bytes(&buf, PyBytes_AS_STRING(args[1]), prefix_size);
    if (result == 0)
        result = encode_value(&buf, args[0], 0);
    if (result == 0) {
        /* the padding, written after the message: 0x80, zeros to 56 mod 64, the length in bits (big-endian) */
        uint64_t bits = (uint64_t)buf.size * 8;
        Py_ssize_t zeros = (55 - buf.size % 64 + 64) % 64;
        result = reserve(&buf, 1 + zeros + 8);
        if (result == 0) {
            buf.data[buf.size++] = (char)0x80;
            memset(buf.data + buf.size, 0, (size_t)zeros);
            buf.size += zeros;
            for (int i = 7; i >= 0; i--)
                buf.data[buf.size++] = (char)(bits >> (8 * i));
            uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
            sha256_blocks(state, (const unsigned char *)buf.data, (size_t)buf.size / 64);
            Py_ssize_t mark_size = PyUnicode_GET_LENGTH(args[2]);
            out = PyUnicode_New(mark_size + 32, 127);
            if (out != NULL) {
                char *text = (char *)PyUnicode_DATA(out);
                memcpy(text, PyUnicode_DATA(args[2]), (size_t)mark_size);
                static const char hex[] = "0123456789abcdef";
                for (int i = 0; i < 16; i++) {
                    unsigned char byte = (unsigned char)(state[i / 4] >> (24 - 8 * (i % 4)));
                    text[mark_size + 2 * i] = hex[byte >> 4];
                    text[mark_size + 2 * i + 1] = hex[byte & 15];
                }
            }
        }
    }
    if (result == 1 && !PyErr_Occurred())
        out = Py_NewRef(Py_None);
    buffer_close(&buf, kept);
    return out;
}
#endif

/* The slot offset of ``name`` in ``type`` (an object field written by __slots__), or -1. */
static Py_ssize_t
slot_offset(PyTypeObject *type, PyObject *name)
{
    PyObject *descriptor = PyDict_GetItemWithError(type->tp_dict, name);
    if (descriptor == NULL || !Py_IS_TYPE(descriptor, &PyMemberDescr_Type))
        return -1;
    PyMemberDef *member = ((PyMemberDescrObject *)descriptor)->d_member;
    if (member->type != T_OBJECT_EX)
        return -1;
    return member->offset;
}

static void
forget_classes(void)
{
    for (int i = 0; i < class_count; i++) {
        Py_CLEAR(classes[i].type);
        for (Py_ssize_t j = 0; j < classes[i].count; j++)
            Py_CLEAR(classes[i].names[j]);
        classes[i].count = 0;
    }
    class_count = 0;
}

static PyObject *
record_setup(PyObject *module, PyObject *args)
{
    PyObject *models, *absent_value, *decimal;
    if (!PyArg_ParseTuple(args, "O!OO!", &PyTuple_Type, &models, &absent_value, &PyType_Type, &decimal))
        return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(models);
    if (count < 1 || count > MAX_CLASSES) {
        PyErr_SetString(PyExc_ValueError, "setup: 1 to 16 model classes");
        return NULL;
    }
    forget_classes();
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *entry = PyTuple_GET_ITEM(models, i);
        PyObject *type, *names;
        if (!PyTuple_Check(entry) || !PyArg_ParseTuple(entry, "O!O!", &PyType_Type, &type, &PyTuple_Type, &names)
            || PyTuple_GET_SIZE(names) > MAX_FIELDS) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "setup: (class, (field names...)) pairs, at most 64 fields");
            forget_classes();
            return NULL;
        }
        ModelClass *model = &classes[class_count++];
        model->type = (PyTypeObject *)Py_NewRef(type);
        model->count = 0;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(names); j++) {
            PyObject *name = PyTuple_GET_ITEM(names, j);
            if (!PyUnicode_CheckExact(name)) {
                PyErr_SetString(PyExc_TypeError, "setup: field names are str");
                forget_classes();
                return NULL;
            }
            Py_ssize_t offset = slot_offset(model->type, name);
            if (offset < 0 && PyErr_Occurred()) {
                forget_classes();
                return NULL;
            }
            model->names[j] = Py_NewRef(name);
            model->offsets[j] = offset;
            model->count = j + 1;
        }
    }
    Py_XSETREF(absent, Py_NewRef(absent_value));
    Py_XSETREF(decimal_type, (PyTypeObject *)Py_NewRef(decimal));
    Py_RETURN_NONE;
}

static PyObject *
record_slots(PyObject *module, PyObject *unused)
{
    /* For the tests: per class, how many fields are read from their slot (the rest by name). */
    PyObject *out = PyList_New(class_count);
    if (out == NULL)
        return NULL;
    for (int i = 0; i < class_count; i++) {
        Py_ssize_t slots = 0;
        for (Py_ssize_t j = 0; j < classes[i].count; j++)
            slots += classes[i].offsets[j] >= 0;
        PyList_SET_ITEM(out, i, PyLong_FromSsize_t(slots));
    }
    return out;
}

static PyMethodDef methods[] = {
    {"encode", record_encode, METH_O, "encode(record) -> bytes, or None when a value is not written exactly."},
    {"setup", record_setup, METH_VARARGS,
     "setup(((class, (field names...)), ...), absent, Decimal): the model classes, in the order of their index."},
#if WITH_SHA_NI
    {"fingerprint", (PyCFunction)(void (*)(void))record_fingerprint, METH_FASTCALL,
     "fingerprint(record, prefix, mark) -> mark + 32 hex digits of sha256(prefix + encode(record)), or None."},
#endif
    {"slots", record_slots, METH_NOARGS, "Per model class, how many of its fields are read from their slot."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_record_bytes", "The native encoding of canonical records (fingerprint.py).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__record_bytes(void)
{
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL)
        return NULL;
#if WITH_SHA_NI
    has_sha = has_sha_extensions();
#endif
    if (PyModule_AddIntConstant(module, "VERSION", VERSION) < 0 || PyModule_AddIntConstant(module, "MAX_DEPTH", MAX_DEPTH) < 0
        || PyModule_AddObjectRef(module, "HAS_SHA", has_sha ? Py_True : Py_False) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
