/* lzf.h - LZF compression, the format Redis uses for compressed strings in
 * RDB files and DUMP payloads (rdbcompression yes).
 *
 * Stream: a control byte c; c < 32: c+1 literal bytes follow; otherwise a
 * back reference of length (c >> 5) + 2 (c >> 5 == 7: plus the next byte),
 * offset ((c & 31) << 8 | next byte) + 1 bytes back in the output.
 *
 * Owns: nothing (the compressor's hash table is on its stack). Never reads
 * or writes outside the buffers it is given, whatever the input. */
#ifndef CACHET_LZF_H
#define CACHET_LZF_H
#include <stddef.h>

/* Compresses in[0..inLen) into out (outLen bytes). Returns the compressed
 * size, or 0 when it does not fit in outLen (or inLen is 0). */
size_t lzfCompress(const void *in, size_t inLen, void *out, size_t outLen);
/* Decompresses in[0..inLen) into out (outLen bytes). Returns the size
 * produced, or 0 on corrupt input or when out is too small. */
size_t lzfDecompress(const void *in, size_t inLen, void *out, size_t outLen);

#endif
