/*
 * Skill pins: the SHA-256 of every file of a skill, so that a changed skill
 * is noticed before it runs again (conf/skill-pins.json).
 *
 * File format (docs/DETECTION.md, "Pins"): one JSON object, a member per
 * skill name:
 *
 *   { "<skill name>": {
 *       "path": "/abs/path/of/the/skill",
 *       "sha256": "<hex over every file's bytes, files in sorted order>",
 *       "files": { "relative/path.js": "<hex SHA-256>", ... },
 *       "pinned_at": "2025-01-01T00:00:00Z",
 *       "pinned_by": "alice" } }
 *
 * "sha256" keeps the single checksum older readers of this file know;
 * ocss verifies per file.  The files of a skill directory are every regular
 * file below it, recursively, except in .git and node_modules directories
 * (the scanner's selection); symbolic links are not followed: a link is
 * pinned as the SHA-256 of "symlink:" and its target text.  A single-file
 * skill pins that file under its base name.
 *
 * struct ocss_pins owns everything it holds; strings returned by the
 * accessors stay valid until the next change or ocss_pins_free().
 */
#ifndef OCSS_PINS_H
#define OCSS_PINS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define OCSS_PINS_FILE	"skill-pins.json"

struct ocss_pins;

/* Load path; a missing file is an empty set.  NULL with err on a read or
 * parse error (err names the file, the JSON path and the fix). */
struct ocss_pins *ocss_pins_load(const char *path, struct ocss_err *);
/* Parse a text in memory (tests, fuzzing); what names the source. */
struct ocss_pins *ocss_pins_parse(const char *json, size_t len,
		    const char *what, struct ocss_err *);
void		ocss_pins_free(struct ocss_pins *);
/* Write atomically (temp file, fsync, rename), mode 0644.  0 or -1. */
int		ocss_pins_save(const struct ocss_pins *, const char *path,
		    struct ocss_err *);

/*
 * Pin the skill at path (a directory or a file) under name, replacing an
 * earlier pin of that name.  user: who pinned it (may be NULL).  0 or -1.
 */
int		ocss_pins_add(struct ocss_pins *, const char *name,
		    const char *path, const char *user, int64_t now_ms,
		    struct ocss_err *);
/* Forget a pin: 0 done, 1 unknown name. */
int		ocss_pins_remove(struct ocss_pins *, const char *name);

size_t		ocss_pins_count(const struct ocss_pins *);
/* Accessors by index (0 .. count-1, sorted by name); NULL past the end. */
const char	*ocss_pins_name(const struct ocss_pins *, size_t);
const char	*ocss_pins_path(const struct ocss_pins *, size_t);
const char	*ocss_pins_pinned_at(const struct ocss_pins *, size_t);
const char	*ocss_pins_pinned_by(const struct ocss_pins *, size_t);
const char	*ocss_pins_sha256(const struct ocss_pins *, size_t);
size_t		ocss_pins_nfiles(const struct ocss_pins *, size_t);
/* Index of name, or -1. */
long		ocss_pins_find(const struct ocss_pins *, const char *name);

/* What differs between a pin and the files on disk.  Paths relative to the
 * skill; each array owned by the result. */
struct ocss_pins_result {
	char	**changed;
	size_t	  nchanged;
	char	**added;
	size_t	  nadded;
	char	**missing;
	size_t	  nmissing;
};

/*
 * Hash the pinned skill's files again and compare.  0 when every file
 * matches, 1 when some file changed, appeared or disappeared (a skill whose
 * path is gone has all its files missing), -1 on error (unknown name: err
 * says so).  res is filled in every case; free with
 * ocss_pins_result_free().
 */
int		ocss_pins_verify(const struct ocss_pins *, const char *name,
		    struct ocss_pins_result *, struct ocss_err *);
void		ocss_pins_result_free(struct ocss_pins_result *);

#endif
