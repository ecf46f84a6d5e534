/*
 * ocss_skillscan: static scanner for OpenClaw skills (JavaScript, TypeScript,
 * TSX) built on tree-sitter.  It tells an operator whether a skill executes
 * dynamic code, spawns processes, talks to hosts outside the egress allowlist,
 * writes or deletes files, or hides any of that behind obfuscation.
 *
 * Ownership:
 *  - struct ocss_skillscan (the scanner) owns its rules, allowlist and parsers.
 *    It is not thread safe: use one per thread / worker.
 *  - struct ocss_skillscan_report owns its findings, file entries and every
 *    string they point to (copies; nothing points into the scanner); those
 *    pointers stay valid until ocss_skillscan_report_free().  A report
 *    describes one skill.
 *
 * Each finding is a flat record of strings and numbers (rule id, category,
 * severity, file, line, column, snippet, detail) so that the quarantine store
 * can save it as one row and render it again without the scanner.
 */
#ifndef OCSS_SKILLSCAN_H
#define OCSS_SKILLSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct ocss_skillscan;
struct ocss_skillscan_report;

enum ocss_skillscan_category {
	OCSS_SKILLSCAN_DANGEROUS_API,
	OCSS_SKILLSCAN_PROCESS,
	OCSS_SKILLSCAN_NETWORK,
	OCSS_SKILLSCAN_FILESYSTEM,
	OCSS_SKILLSCAN_OBFUSCATION,
	OCSS_SKILLSCAN_SCANNER		/* file could not be (fully) scanned */
};

enum ocss_skillscan_severity {
	OCSS_SKILLSCAN_INFO,
	OCSS_SKILLSCAN_LOW,
	OCSS_SKILLSCAN_MEDIUM,
	OCSS_SKILLSCAN_HIGH,
	OCSS_SKILLSCAN_CRITICAL
};

enum ocss_skillscan_lang {
	OCSS_SKILLSCAN_LANG_NONE,	/* not a source file we scan */
	OCSS_SKILLSCAN_LANG_JS,		/* .js .mjs .cjs .jsx */
	OCSS_SKILLSCAN_LANG_TS,		/* .ts .mts .cts */
	OCSS_SKILLSCAN_LANG_TSX		/* .tsx */
};

struct ocss_skillscan_finding {
	const char			*rule_id;
	enum ocss_skillscan_category	 category;
	enum ocss_skillscan_severity	 severity;
	const char			*description;	/* the rule's */
	const char			*file;	/* relative to the skill root */
	unsigned			 line;	/* 1-based */
	unsigned			 column;	/* 1-based, in bytes */
	const char			*snippet;	/* the source line, trimmed */
	const char			*detail;	/* e.g. resolved host, "" if none */
};

enum ocss_skillscan_file_status {
	OCSS_SKILLSCAN_FILE_OK,
	OCSS_SKILLSCAN_FILE_PARSE_ERROR,	/* scanned, tree has errors */
	OCSS_SKILLSCAN_FILE_TOO_LARGE,		/* not scanned */
	OCSS_SKILLSCAN_FILE_BINARY,		/* not scanned */
	OCSS_SKILLSCAN_FILE_MANIFEST		/* package.json / SKILL.md read */
};

struct ocss_skillscan_file {
	const char			*path;	/* relative to the skill root */
	enum ocss_skillscan_file_status	 status;
	uint64_t			 size;
	char				 sha256[65];	/* hex; for pins */
};

/*
 * Create a scanner from a rules file (conf/scanner-rules.json) and an egress
 * allowlist (one domain per line, '#' comments).  allowlist_path may be NULL
 * (then every resolved host is unlisted).  Returns 0, or -1 with err naming
 * the file, the rule or line, and the fix.
 */
int	ocss_skillscan_new(struct ocss_skillscan **, const char *rules_path,
	    const char *allowlist_path, struct ocss_err *);
/* Same, from strings in memory (tests, fuzzing). */
int	ocss_skillscan_new_mem(struct ocss_skillscan **, const char *rules_json,
	    const char *allowlist, struct ocss_err *);
void	ocss_skillscan_free(struct ocss_skillscan *);

/* Options: descend into node_modules (default no); per-file size limit in
 * bytes (default from the rules file, else 2 MiB). */
void	ocss_skillscan_set_node_modules(struct ocss_skillscan *, int);
void	ocss_skillscan_set_max_file(struct ocss_skillscan *, size_t);

/* Language from a file name's extension; LANG_NONE when not scanned. */
enum ocss_skillscan_lang ocss_skillscan_lang_for(const char *name);

/* A new empty report for the skill called name (copied). NULL on ENOMEM. */
struct ocss_skillscan_report *ocss_skillscan_report_new(const char *name);
void	ocss_skillscan_report_free(struct ocss_skillscan_report *);

/*
 * Scan a skill: a file or a directory (recursively; node_modules skipped
 * unless enabled; symbolic links not followed), adding to the report.
 * A package.json or SKILL.md at the top is read as the skill manifest.
 * Files too large, binary or unparsable become findings, not errors.
 * Returns 0, or -1 (err set) when the path cannot be read at all.
 */
int	ocss_skillscan_path(struct ocss_skillscan *, const char *path,
	    struct ocss_skillscan_report *, struct ocss_err *);
/* Scan one source text held in memory; name is the file name reported. */
int	ocss_skillscan_source(struct ocss_skillscan *, const char *name,
	    enum ocss_skillscan_lang, const char *src, size_t len,
	    struct ocss_skillscan_report *, struct ocss_err *);
/* Read a package.json text: install-time scripts and the skill name. */
int	ocss_skillscan_manifest(struct ocss_skillscan *, const char *name,
	    const char *json, size_t len, struct ocss_skillscan_report *,
	    struct ocss_err *);

/* Report accessors.  Findings are in scan order (file, then position).
 * name: the manifest's name (SKILL.md, else package.json) when there is
 * one, else the name given to report_new; path: always the latter. */
const char *ocss_skillscan_report_name(const struct ocss_skillscan_report *);
const char *ocss_skillscan_report_path(const struct ocss_skillscan_report *);
size_t	ocss_skillscan_report_count(const struct ocss_skillscan_report *);
const struct ocss_skillscan_finding *
	ocss_skillscan_report_finding(const struct ocss_skillscan_report *,
	    size_t);
size_t	ocss_skillscan_report_nfiles(const struct ocss_skillscan_report *);
const struct ocss_skillscan_file *
	ocss_skillscan_report_file(const struct ocss_skillscan_report *, size_t);
/* Number of findings whose rule id equals id (tests, policy). */
size_t	ocss_skillscan_report_count_rule(const struct ocss_skillscan_report *,
	    const char *id);
/*
 * Trust score 0..100 (100: nothing found).  Formula (docs/DETECTION.md):
 * each rule contributes weight(severity) for its first finding in the skill
 * and half that for the second and third (further ones add nothing);
 * weights critical 40, high 20, medium 8, low 3, info 0;
 * score = max(0, 100 - sum), and at most 20 if any finding is critical.
 */
int	ocss_skillscan_report_score(const struct ocss_skillscan_report *);

const char *ocss_skillscan_category_name(enum ocss_skillscan_category);
const char *ocss_skillscan_severity_name(enum ocss_skillscan_severity);

/* Output.  All append to out and return 0, -1 on ENOMEM. */
int	ocss_skillscan_format_text(struct ocss_skillscan_report *const *,
	    size_t n, int colour, struct ocss_buf *out);
int	ocss_skillscan_format_json(struct ocss_skillscan_report *const *,
	    size_t n, struct ocss_buf *out);
/* SARIF 2.1.0: one run, the rules that fired as tool.driver.rules. */
int	ocss_skillscan_format_sarif(const struct ocss_skillscan *,
	    struct ocss_skillscan_report *const *, size_t n,
	    struct ocss_buf *out);

#endif
