/*
 * Internals shared by lib/skillscan*.c.  Not part of the libocss API.
 */
#ifndef OCSS_SKILLSCAN_INT_H
#define OCSS_SKILLSCAN_INT_H

#include <regex.h>
#include <stddef.h>

#include <tree_sitter/api.h>

#include "skillscan.h"

/* Named checks: what the single tree walk can report.  A rule in
 * conf/scanner-rules.json enables a check by naming it. */
#define SS_CHECKS(X) \
	X(EVAL, "eval") \
	X(INDIRECT_EVAL, "indirect_eval") \
	X(FUNCTION_CTOR, "function_constructor") \
	X(TIMER_STRING, "timer_string") \
	X(VM, "vm_exec") \
	X(DYN_REQUIRE, "dynamic_require") \
	X(DYN_IMPORT, "dynamic_import") \
	X(CP_IMPORT, "child_process_import") \
	X(CP_CALL, "child_process_call") \
	X(CP_DETACHED, "detached_process") \
	X(SHELL_DANGEROUS, "dangerous_shell_command") \
	X(PROCESS_BINDING, "process_binding") \
	X(NATIVE_ADDON, "native_addon") \
	X(MODULE_LOAD, "module_load") \
	X(WORKER_EVAL, "worker_eval") \
	X(INSTALL_SCRIPT, "install_script") \
	X(NET_UNLISTED, "network_unlisted_host") \
	X(NET_UNRESOLVED, "network_unresolved_host") \
	X(NET_EXFIL_ENV, "exfiltrate_env") \
	X(NET_EXFIL_SECRET, "exfiltrate_secret") \
	X(NET_RAW_SOCKET, "raw_socket") \
	X(FS_WRITE, "fs_write") \
	X(FS_WRITE_OUTSIDE, "fs_write_outside") \
	X(FS_DELETE, "fs_delete") \
	X(FS_DELETE_OUTSIDE, "fs_delete_outside") \
	X(FS_DELETE_RECURSIVE, "fs_delete_recursive") \
	X(FS_RENAME, "fs_rename") \
	X(FS_CHMOD, "fs_chmod") \
	X(FS_SENSITIVE_READ, "sensitive_file_read") \
	X(OBF_DECODED_EXEC, "decoded_exec") \
	X(OBF_FROMCHARCODE, "fromcharcode") \
	X(OBF_HIDDEN_API, "hidden_api") \
	X(OBF_ENCODED_PAYLOAD, "encoded_payload") \
	X(SCAN_PARSE_ERROR, "parse_error") \
	X(SCAN_TOO_LARGE, "too_large") \
	X(SCAN_BINARY, "binary") \
	X(SCAN_BUDGET, "analysis_budget")

#define SS_ENUM(e, s) SS_CK_##e,
enum ss_check { SS_CHECKS(SS_ENUM) SS_CK_MAX };
#undef SS_ENUM

extern const char *const ss_check_names[SS_CK_MAX];

/* Languages index the per-language tables (0 = JS, 1 = TS, 2 = TSX). */
#define SS_NLANG 3

enum ss_pred_op { SS_P_EQ, SS_P_NOT_EQ, SS_P_MATCH, SS_P_NOT_MATCH };

struct ss_pred {
	enum ss_pred_op	 op;
	uint32_t	 capture;
	int		 other_capture;		/* -1: compare with str */
	char		*str;
	regex_t		 re;
	int		 has_re;
};

struct ss_pattern {
	int		 rule;			/* index into rules */
	struct ss_pred	*preds;
	size_t		 npreds;
};

struct ss_rule {
	char				*id;
	char				*description;
	enum ocss_skillscan_category	 category;
	enum ocss_skillscan_severity	 severity;
	char				*query;		/* NULL: named checks only */
};

struct ss_query {
	TSQuery			*q;
	struct ss_pattern	*pats;
	uint32_t		 npats;
};

struct ocss_skillscan {
	struct ss_rule	*rules;
	size_t		 nrules;
	int		 check_rule[SS_CK_MAX];	/* -1: disabled */
	struct ss_query	 queries[SS_NLANG];	/* q NULL: no query rules */
	char		**allow;		/* lower-case domains */
	size_t		 nallow;
	size_t		 max_file;
	int		 node_modules;
	TSParser	*parser;
	TSQueryCursor	*qc;
	const TSLanguage *lang[SS_NLANG];
	uint16_t	*kind[SS_NLANG];	/* symbol -> enum ss_kind */
	uint32_t	 nsym[SS_NLANG];
	TSFieldId	 field[SS_NLANG][16];
};

/* Report internals (lib/skillscan.c). */
int	ss_report_add_file(struct ocss_skillscan_report *, const char *path,
	    enum ocss_skillscan_file_status, uint64_t size, const char *src,
	    size_t len);
const char *ss_report_root(const struct ocss_skillscan_report *);
void	ss_report_set_name(struct ocss_skillscan_report *, const char *);
int	ss_host_allowed(const struct ocss_skillscan *, const char *host);

/* The tree walk (lib/skillscan_walk.c). */
int	ss_walk_init(struct ocss_skillscan *, struct ocss_err *);
int	ss_walk_file(struct ocss_skillscan *, const char *name, int lang,
	    const char *src, size_t len, struct ocss_skillscan_report *);
int	ss_emit_rule(struct ocss_skillscan *, struct ocss_skillscan_report *,
	    int rule, const char *file, const char *src, size_t len,
	    uint32_t byte, unsigned line, unsigned col, const char *detail);
int	ss_emit(struct ocss_skillscan *, struct ocss_skillscan_report *,
	    enum ss_check, const char *file, const char *src, size_t len,
	    uint32_t byte, unsigned line, unsigned col, const char *detail);

#endif
