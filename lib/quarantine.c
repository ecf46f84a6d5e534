/*
 * Skill quarantine over the store (lib/quarantine.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "quarantine.h"

#define J(b, s) ocss_buf_json_str((b), (s), strlen(s))

int
ocss_quarantine_severity(const char *s, enum ocss_skillscan_severity *sev)
{
	int	 i;

	for (i = OCSS_SKILLSCAN_INFO; i <= OCSS_SKILLSCAN_CRITICAL; i++)
		if (strcmp(s, ocss_skillscan_severity_name(
		    (enum ocss_skillscan_severity)i)) == 0) {
			*sev = (enum ocss_skillscan_severity)i;
			return 0;
		}
	return -1;
}

int
ocss_quarantine_findings_json(const struct ocss_skillscan_report *r,
    struct ocss_buf *b)
{
	const struct ocss_skillscan_finding *f;
	size_t	 i;
	int	 rc = 0;

	rc |= ocss_buf_putc(b, '[');
	for (i = 0; i < ocss_skillscan_report_count(r); i++) {
		f = ocss_skillscan_report_finding(r, i);
		rc |= ocss_buf_puts(b, i ? ",{\"rule\":\"" : "{\"rule\":\"");
		rc |= J(b, f->rule_id);
		rc |= ocss_buf_printf(b, "\",\"category\":\"%s\",\"severity\":"
		    "\"%s\",\"file\":\"", ocss_skillscan_category_name(
		    f->category), ocss_skillscan_severity_name(f->severity));
		rc |= J(b, f->file);
		rc |= ocss_buf_printf(b, "\",\"line\":%u,\"column\":%u,"
		    "\"snippet\":\"", f->line, f->column);
		rc |= J(b, f->snippet);
		rc |= ocss_buf_puts(b, "\",\"detail\":\"");
		rc |= J(b, f->detail);
		rc |= ocss_buf_puts(b, "\"}");
	}
	rc |= ocss_buf_putc(b, ']');
	return rc ? -1 : 0;
}

void
ocss_quarantine_content_sha256(const struct ocss_skillscan_report *r,
    char hex[65])
{
	const struct ocss_skillscan_file *fl;
	EVP_MD_CTX	*ctx;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n = 0, i;
	size_t		 j;

	hex[0] = '\0';
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
		for (j = 0; j < ocss_skillscan_report_nfiles(r); j++) {
			fl = ocss_skillscan_report_file(r, j);
			EVP_DigestUpdate(ctx, fl->path, strlen(fl->path) + 1);
			EVP_DigestUpdate(ctx, fl->sha256, strlen(fl->sha256));
			EVP_DigestUpdate(ctx, "\n", 1);
		}
		if (EVP_DigestFinal_ex(ctx, md, &n) == 1)
			for (i = 0; i < n && i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
	}
	EVP_MD_CTX_free(ctx);
}

static int
nomem(struct ocss_err *err)
{
	ocss_err_set(err, "out of memory");
	return -1;
}

static int
blank(const char *s)
{
	if (s == NULL)
		return 1;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/* Replace *dst by a copy of src (NULL stays NULL); -1 on ENOMEM. */
static int
set_str(char **dst, const char *src)
{
	char	*d = NULL;

	if (src != NULL && (d = strdup(src)) == NULL)
		return -1;
	free(*dst);
	*dst = d;
	return 0;
}

static int
clear_override(struct ocss_quarantine_rec *q)
{
	set_str(&q->override_user, NULL);
	set_str(&q->override_ack, NULL);
	set_str(&q->override_findings_json, NULL);
	q->override_at = 0;
	return 0;
}

int
ocss_quarantine_record(struct ocss_store *st,
    const struct ocss_skillscan_report *r, const char *path, const char *name,
    enum ocss_skillscan_severity min, int64_t now,
    enum ocss_quarantine_result *res, struct ocss_quarantine_rec *out,
    struct ocss_err *err)
{
	struct ocss_quarantine_rec	 q;
	struct ocss_buf			 fj = OCSS_BUF_INIT, why = OCSS_BUF_INIT;
	enum ocss_quarantine_result	 result;
	char				 abs[PATH_MAX], digest[65];
	enum ocss_skillscan_severity	 worst = OCSS_SKILLSCAN_INFO;
	size_t				 i;
	long				 n = 0;
	int				 have, rc = -1, score;
	const struct ocss_skillscan_finding *f;

	if (name == NULL)
		name = ocss_skillscan_report_name(r);
	if (realpath(path, abs) == NULL) {
		if (strlen(path) >= sizeof(abs)) {
			ocss_err_set(err, "%s: path too long", path);
			return -1;
		}
		snprintf(abs, sizeof(abs), "%s", path);
	}
	for (i = 0; i < ocss_skillscan_report_count(r); i++) {
		f = ocss_skillscan_report_finding(r, i);
		if (f->severity >= min) {
			n++;
			if (f->severity > worst)
				worst = f->severity;
		}
	}
	score = ocss_skillscan_report_score(r);
	ocss_quarantine_content_sha256(r, digest);
	if (ocss_quarantine_findings_json(r, &fj) == -1)
		return nomem(err);
	if ((have = ocss_store_quarantine_get(st, name, &q, err)) == -1)
		goto done;
	if (have == 1) {
		memset(&q, 0, sizeof(q));
		if (n == 0) {
			/* A clean skill never quarantined: nothing to keep. */
			if (res)
				*res = OCSS_QUARANTINE_CLEAN;
			if (out)
				memset(out, 0, sizeof(*out));
			rc = 0;
			goto done;
		}
		if (set_str(&q.name, name) == -1)
			goto oom;
	}
	if (n == 0) {
		result = strcmp(q.status ? q.status : "", "released") == 0 ?
		    OCSS_QUARANTINE_CLEAN : OCSS_QUARANTINE_RELEASED;
		if (result == OCSS_QUARANTINE_RELEASED)
			q.released_at = now;
		if (set_str(&q.status, "released") == -1 ||
		    (result == OCSS_QUARANTINE_RELEASED &&
		    set_str(&q.reason, "clean at the last scan") == -1))
			goto oom;
		clear_override(&q);
	} else if (q.status && strcmp(q.status, "overridden") == 0 &&
	    !q.needs_rescan && q.content_sha256 &&
	    strcmp(q.content_sha256, digest) == 0 &&
	    q.override_findings_json &&
	    strcmp(q.override_findings_json, fj.data) == 0) {
		/* The operator accepted exactly this content. */
		result = OCSS_QUARANTINE_OVERRIDDEN;
	} else {
		result = OCSS_QUARANTINE_QUARANTINED;
		if (q.status == NULL || strcmp(q.status, "quarantined") != 0 ||
		    q.quarantined_at == 0)
			q.quarantined_at = now;
		if (ocss_buf_printf(&why, "%ld finding%s at or above %s "
		    "(worst %s), trust score %d", n, n == 1 ? "" : "s",
		    ocss_skillscan_severity_name(min),
		    ocss_skillscan_severity_name(worst),
		    score) == -1 ||
		    set_str(&q.status, "quarantined") == -1 ||
		    set_str(&q.reason, why.data) == -1)
			goto oom;
		clear_override(&q);
	}
	if (set_str(&q.path, abs) == -1 ||
	    set_str(&q.findings_json, fj.data) == -1 ||
	    set_str(&q.content_sha256, digest) == -1)
		goto oom;
	q.trust_score = score;
	q.nfindings = n;
	q.needs_rescan = 0;
	q.scanned_at = now;
	if (ocss_store_quarantine_put(st, &q, err) == -1)
		goto done;
	if (res)
		*res = result;
	if (out) {
		*out = q;
		memset(&q, 0, sizeof(q));
	}
	rc = 0;
	goto done;
oom:
	nomem(err);
done:
	ocss_store_quarantine_free(&q);
	ocss_buf_free(&fj);
	ocss_buf_free(&why);
	return rc;
}

/* Why an override or release was refused: err set, returns 1 (or -1). */
static int
refused(struct ocss_store *st, const char *name, const char *verb,
    struct ocss_err *err)
{
	struct ocss_quarantine_rec	 q;
	int				 rc;

	if ((rc = ocss_store_quarantine_get(st, name, &q, err)) == -1)
		return -1;
	if (rc == 1)
		ocss_err_set(err, "no skill '%s' in the quarantine store "
		    "(see 'ocss quarantine list'; names are the skills' "
		    "manifest names)", name);
	else if (q.needs_rescan)
		ocss_err_set(err, "skill '%s' changed since its last scan "
		    "(%s): run 'ocss quarantine rescan %s' first", name,
		    q.reason, name);
	else
		ocss_err_set(err, "skill '%s' is %s, not quarantined: "
		    "nothing to %s", name, q.status, verb);
	ocss_store_quarantine_free(&q);
	return 1;
}

static int
need_user_ack(const char *verb, const char *user, const char *ack,
    struct ocss_err *err)
{
	if (blank(user) || blank(ack)) {
		ocss_err_set(err, "%s refused: give both --user NAME and "
		    "--ack TEXT (e.g. --ack \"I accept the risk\"); the "
		    "decision is audited with both", verb);
		return 1;
	}
	return 0;
}

int
ocss_quarantine_override(struct ocss_store *st, const char *name,
    const char *user, const char *ack, int64_t now, struct ocss_err *err)
{
	int	 rc;

	if (need_user_ack("override", user, ack, err))
		return 1;
	if ((rc = ocss_store_quarantine_override(st, name, user, ack, now,
	    err)) != 1)
		return rc;
	return refused(st, name, "override", err);
}

int
ocss_quarantine_release(struct ocss_store *st, const char *name,
    const char *user, const char *ack, int64_t now, struct ocss_err *err)
{
	struct ocss_buf	 why = OCSS_BUF_INIT;
	int		 rc;

	if (need_user_ack("release", user, ack, err))
		return 1;
	if (ocss_buf_printf(&why, "released by %s", user) == -1)
		return nomem(err);
	rc = ocss_store_quarantine_release(st, name, why.data, now, err);
	ocss_buf_free(&why);
	if (rc != 1)
		return rc;
	return refused(st, name, "release", err);
}

int
ocss_quarantine_rescan(struct ocss_store *st, struct ocss_skillscan *sc,
    const char *name, enum ocss_skillscan_severity min, int64_t now,
    enum ocss_quarantine_result *res, struct ocss_quarantine_rec *out,
    struct ocss_err *err)
{
	struct ocss_quarantine_rec	 q;
	struct ocss_skillscan_report	*r = NULL;
	int				 rc;

	if ((rc = ocss_store_quarantine_get(st, name, &q, err)) != 0) {
		if (rc == 1)
			ocss_err_set(err, "no skill '%s' in the quarantine "
			    "store (see 'ocss quarantine list')", name);
		return rc;
	}
	rc = -1;
	if ((r = ocss_skillscan_report_new(q.path)) == NULL) {
		nomem(err);
		goto done;
	}
	if (ocss_skillscan_path(sc, q.path, r, err) == -1)
		goto done;
	rc = ocss_quarantine_record(st, r, q.path, name, min, now, res, out,
	    err);
done:
	ocss_skillscan_report_free(r);
	ocss_store_quarantine_free(&q);
	return rc;
}

int
ocss_quarantine_is_blocked(struct ocss_store *st, const char *name,
    struct ocss_err *err)
{
	return ocss_store_quarantine_is_blocked(st, name, err);
}

struct export_ctx {
	struct ocss_buf	*b;
	size_t		 n;
	int		 rc;
};

static void
export_one(void *arg, const struct ocss_quarantine_rec *q)
{
	struct export_ctx *x = arg;

	x->rc |= ocss_buf_puts(x->b, x->n ? ",\n  \"" : "\n  \"");
	x->rc |= J(x->b, q->name);
	x->rc |= ocss_buf_putc(x->b, '"');
	x->n++;
}

int
ocss_quarantine_export(struct ocss_store *st, const char *path,
    size_t *count, struct ocss_err *err)
{
	struct ocss_buf		 b = OCSS_BUF_INIT;
	struct export_ctx	 x = { &b, 0, 0 };
	int			 rc = -1;

	x.rc |= ocss_buf_putc(&b, '[');
	if (ocss_store_quarantine_list(st, "quarantined", export_one, &x,
	    err) == -1)
		goto done;
	x.rc |= ocss_buf_puts(&b, x.n ? "\n]\n" : "]\n");
	if (x.rc) {
		nomem(err);
		goto done;
	}
	if (ocss_quarantine_write_file(path, b.data, b.len, 0644, err) == -1)
		goto done;
	if (count)
		*count = x.n;
	rc = 0;
done:
	ocss_buf_free(&b);
	return rc;
}

int
ocss_quarantine_write_file(const char *path, const void *data, size_t len,
    mode_t mode, struct ocss_err *err)
{
	char		*tmp = NULL, *dir = NULL, *slash;
	const char	*p = data;
	ssize_t		 w;
	int		 fd = -1, dfd, rc = -1;

	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) == -1) {
		tmp = NULL;
		return nomem(err);
	}
	if ((fd = mkstemp(tmp)) == -1) {
		ocss_err_set(err, "%s: cannot create a temporary file next to "
		    "it: %s (is the directory writable?)", path,
		    strerror(errno));
		goto done;
	}
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			ocss_err_set(err, "%s: write: %s", tmp,
			    strerror(errno));
			goto done;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, mode) == -1 || fsync(fd) == -1) {
		ocss_err_set(err, "%s: %s", tmp, strerror(errno));
		goto done;
	}
	if (close(fd) == -1) {
		fd = -1;
		ocss_err_set(err, "%s: close: %s", tmp, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		ocss_err_set(err, "rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto done;
	}
	free(tmp);
	tmp = NULL;
	/* The rename itself survives a crash once the directory is synced. */
	if ((dir = strdup(path)) != NULL) {
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		if ((dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) != -1) {
			fsync(dfd);
			close(dfd);
		}
	}
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(dir);
	return rc;
}

int
ocss_quarantine_audit(const char *audit_path, const char *event,
    const char *decision, const char *name, const char *reason,
    const char *extra, struct ocss_err *err)
{
	struct ocss_audit	*au;
	struct ocss_audit_event	 e;
	struct ocss_buf		 x = OCSS_BUF_INIT;
	int			 rc = -1;

	if ((au = ocss_audit_open(audit_path, OCSS_FSYNC_NEVER, err)) == NULL)
		return -1;
	if (ocss_buf_puts(&x, "\"skill\":\"") == -1 || J(&x, name) == -1 ||
	    ocss_buf_putc(&x, '"') == -1 ||
	    (extra && *extra && (ocss_buf_putc(&x, ',') == -1 ||
	    ocss_buf_puts(&x, extra) == -1))) {
		nomem(err);
		goto done;
	}
	memset(&e, 0, sizeof(e));
	e.event = event;
	e.method = "CLI";
	e.path = name;
	e.decision = decision;
	e.reason = reason;
	e.extra = x.data;
	if (ocss_audit_write(au, &e) == -1) {
		ocss_err_set(err, "audit log %s: %s", audit_path,
		    strerror(errno));
		goto done;
	}
	rc = 0;
done:
	ocss_buf_free(&x);
	ocss_audit_close(au);
	return rc;
}
