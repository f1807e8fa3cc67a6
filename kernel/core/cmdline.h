/* Kernel command line parsing. The kernel describes its options in a table of struct opt_desc and
 * the parser fills a destination struct from "name=value" tokens. Every problem (unknown option,
 * missing or malformed value, out-of-range number, duplicate) is reported through a callback as a
 * complete sentence and counted; nothing is silently ignored or truncated. The parser names no
 * option itself and uses no heap, so it runs before the memory manager and in host unit tests. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum opt_type {
    OPT_UINT,   /* uint64_t; decimal or 0x hex, within [min, max] */
    OPT_BOOL,   /* bool; on/off, yes/no, true/false, 1/0 (any case); a bare name means on */
    OPT_STRING, /* char[size], NUL-terminated; characters [A-Za-z0-9_.,:/+-], at most size - 1 */
};

struct opt_desc {
    const char *name;   /* [A-Za-z0-9_.-]+, unique within the table */
    enum opt_type type;
    size_t offset;      /* of the field in the destination struct (offsetof) */
    size_t size;        /* OPT_STRING: bytes of the char array, NUL included (>= 2) */
    uint64_t min, max;  /* OPT_UINT: accepted range, inclusive */
    const char *help;   /* one line for the kernel's option listing; unused by the parser */
};

/* The most options a table may have, so that cmdline_parse's seen mask has a bit for each. */
#define CMDLINE_MAX_OPTS 64

/* Longest message passed to a cmdline_error_fn, NUL included; long names and values in it are
 * shortened with "...". */
#define CMDLINE_MSG_MAX 256

/* message is one complete sentence without a trailing newline, e.g.
 * "option 'smp': 300 is out of range 1..64". It is only valid during the call. */
typedef void (*cmdline_error_fn)(void *ctx, const char *message);

/* Parses the whitespace-separated (space, tab, CR, LF) tokens of line into dst according to
 * table[0..n). line may be NULL (as if empty) and on_error may be NULL (errors are then only
 * counted). Returns the number of errors.
 *
 * An option that fails, and any repetition of an option, leaves its destination field untouched,
 * so fields keep the defaults the caller put there. If seen is not NULL, *seen is set to the mask
 * of options whose value was taken from the line (bit i for table[i]); options that appeared but
 * failed are not in it. A malformed table (more than CMDLINE_MAX_OPTS entries, bad or duplicate
 * names, a bad type, size or range) is reported as errors too, and then nothing is parsed. */
int cmdline_parse(const char *line, const struct opt_desc *table, size_t n, void *dst,
                  uint64_t *seen, cmdline_error_fn on_error, void *ctx);

/* Multiboot loaders (QEMU -kernel, GRUB, iPXE) put the image path before the options. Returns
 * line past its first token and the whitespace after it when that token contains no '=', and
 * past leading whitespace otherwise: "/boot/tachyon.bin test=all" -> "test=all",
 * "test=all" -> "test=all", "" -> "". NULL gives "". A line that starts with a bare boolean option
 * and no image name loses that option, so loaders must always pass the image name. */
const char *cmdline_skip_image_name(const char *line);
