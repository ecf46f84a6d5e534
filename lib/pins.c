/*
 * Skill pins (lib/pins.h): SHA-256 per file of a skill, kept in
 * conf/skill-pins.json.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "buf.h"
#include "pins.h"
#include "quarantine.h"

#define MAX_DEPTH	64
#define J(b, s) ocss_buf_json_str((b), (s), strlen(s))

struct pin_file {
	char	*path;		/* relative to the skill */
	char	*full;		/* while hashing only */
	int	 link;
	char	 sha[65];
};

struct pin {
	char		*name;
	char		*path;
	char		*pinned_at;
	char		*pinned_by;
	char		 sha[65];
	struct pin_file	*files;
	size_t		 nfiles;
};

struct ocss_pins {
	struct pin	*v;
	size_t		 n, cap;
};

struct flist {
	struct pin_file	*v;
	size_t		 n, cap;
};

static void
flist_free(struct flist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].full);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
flist_add(struct flist *l, const char *rel, const char *full, int link)
{
	struct pin_file	*f;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;

		if ((f = realloc(l->v, ncap * sizeof(*f))) == NULL)
			return -1;
		l->v = f;
		l->cap = ncap;
	}
	f = &l->v[l->n];
	memset(f, 0, sizeof(*f));
	f->link = link;
	if ((f->path = strdup(rel)) == NULL ||
	    (full && (f->full = strdup(full)) == NULL)) {
		free(f->path);
		return -1;
	}
	l->n++;
	return 0;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pin_file *)a)->path,
	    ((const struct pin_file *)b)->path);
}

static void
pin_clear(struct pin *p)
{
	size_t	 i;

	free(p->name);
	free(p->path);
	free(p->pinned_at);
	free(p->pinned_by);
	for (i = 0; i < p->nfiles; i++) {
		free(p->files[i].path);
		free(p->files[i].full);
	}
	free(p->files);
	memset(p, 0, sizeof(*p));
}

void
ocss_pins_free(struct ocss_pins *ps)
{
	size_t	 i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->n; i++)
		pin_clear(&ps->v[i]);
	free(ps->v);
	free(ps);
}

static int
nomem(struct ocss_err *err)
{
	ocss_err_set(err, "out of memory");
	return -1;
}

/* Collect the files below dir (rel: its path inside the skill). */
static int
walk(struct flist *l, const char *dir, const char *rel, int depth,
    struct ocss_err *err)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*full = NULL, *nrel = NULL;
	int		 rc = 0;

	if (depth > MAX_DEPTH) {
		ocss_err_set(err, "%s: directories nested deeper than %d",
		    dir, MAX_DEPTH);
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		ocss_err_set(err, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *nm = de->d_name;

		if (!strcmp(nm, ".") || !strcmp(nm, "..") ||
		    !strcmp(nm, ".git") || !strcmp(nm, "node_modules"))
			continue;
		if (asprintf(&full, "%s/%s", dir, nm) == -1 ||
		    asprintf(&nrel, "%s%s%s", rel, *rel ? "/" : "", nm) == -1) {
			full = nrel = NULL;
			rc = nomem(err);
			break;
		}
		if (lstat(full, &st) == -1) {
			ocss_err_set(err, "%s: %s", full, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode))
			rc = walk(l, full, nrel, depth + 1, err);
		else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			if (flist_add(l, nrel, full, S_ISLNK(st.st_mode)))
				rc = nomem(err);
		}
		free(full);
		free(nrel);
		full = nrel = NULL;
	}
	closedir(d);
	return rc;
}

static void
hex(const unsigned char *md, unsigned int n, char out[65])
{
	unsigned int	 i;

	out[0] = '\0';
	for (i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Hash one file (or link) into its own digest and into agg. */
static int
hash_one(struct pin_file *f, EVP_MD_CTX *agg, struct ocss_err *err)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	ssize_t		 r;
	int		 fd = -1, rc = -1;

	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		ocss_err_set(err, "SHA-256 unavailable");
		goto done;
	}
	if (f->link) {
		if ((r = readlink(f->full, (char *)buf, sizeof(buf))) == -1) {
			ocss_err_set(err, "%s: %s", f->full, strerror(errno));
			goto done;
		}
		EVP_DigestUpdate(ctx, "symlink:", 8);
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		EVP_DigestUpdate(agg, "symlink:", 8);
		EVP_DigestUpdate(agg, buf, (size_t)r);
	} else {
		if ((fd = open(f->full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
		    -1) {
			ocss_err_set(err, "%s: %s", f->full, strerror(errno));
			goto done;
		}
		while ((r = read(fd, buf, sizeof(buf))) != 0) {
			if (r == -1) {
				if (errno == EINTR)
					continue;
				ocss_err_set(err, "%s: %s", f->full,
				    strerror(errno));
				goto done;
			}
			EVP_DigestUpdate(ctx, buf, (size_t)r);
			EVP_DigestUpdate(agg, buf, (size_t)r);
		}
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
		ocss_err_set(err, "SHA-256 failed");
		goto done;
	}
	hex(md, mdlen, f->sha);
	rc = 0;
done:
	if (fd != -1)
		close(fd);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/*
 * Hash the skill at path into l (sorted by relative path) and agg_hex.
 * Returns 0, 1 when path does not exist (l empty), -1 on error.
 */
static int
hash_tree(const char *path, struct flist *l, char agg_hex[65],
    struct ocss_err *err)
{
	EVP_MD_CTX	*agg = NULL;
	struct stat	 st;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	const char	*base;
	size_t		 i;
	int		 rc = -1;

	memset(l, 0, sizeof(*l));
	agg_hex[0] = '\0';
	if (stat(path, &st) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 1;
		ocss_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		if (walk(l, path, "", 0, err) == -1)
			goto done;
	} else if (S_ISREG(st.st_mode)) {
		base = strrchr(path, '/');
		if (flist_add(l, base ? base + 1 : path, path, 0) == -1) {
			nomem(err);
			goto done;
		}
	} else {
		ocss_err_set(err, "%s: not a directory or a regular file",
		    path);
		goto done;
	}
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), file_cmp);
	if ((agg = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(agg, EVP_sha256(), NULL) != 1) {
		ocss_err_set(err, "SHA-256 unavailable");
		goto done;
	}
	for (i = 0; i < l->n; i++)
		if (hash_one(&l->v[i], agg, err) == -1)
			goto done;
	if (EVP_DigestFinal_ex(agg, md, &mdlen) != 1) {
		ocss_err_set(err, "SHA-256 failed");
		goto done;
	}
	hex(md, mdlen, agg_hex);
	rc = 0;
done:
	EVP_MD_CTX_free(agg);
	if (rc == -1)
		flist_free(l);
	return rc;
}

size_t
ocss_pins_count(const struct ocss_pins *ps)
{
	return ps->n;
}

long
ocss_pins_find(const struct ocss_pins *ps, const char *name)
{
	size_t	 i;

	for (i = 0; i < ps->n; i++)
		if (strcmp(ps->v[i].name, name) == 0)
			return (long)i;
	return -1;
}

#define ACCESSOR(fn, field) \
const char * \
fn(const struct ocss_pins *ps, size_t i) \
{ \
	return i < ps->n ? ps->v[i].field : NULL; \
}
ACCESSOR(ocss_pins_name, name)
ACCESSOR(ocss_pins_path, path)
ACCESSOR(ocss_pins_pinned_at, pinned_at)
ACCESSOR(ocss_pins_pinned_by, pinned_by)
ACCESSOR(ocss_pins_sha256, sha)
#undef ACCESSOR

size_t
ocss_pins_nfiles(const struct ocss_pins *ps, size_t i)
{
	return i < ps->n ? ps->v[i].nfiles : 0;
}

/* Put p (taken over) in the set, sorted by name, replacing its namesake. */
static int
put_pin(struct ocss_pins *ps, struct pin *p)
{
	struct pin	*v;
	size_t		 i;
	long		 at = ocss_pins_find(ps, p->name);

	if (at >= 0) {
		pin_clear(&ps->v[at]);
		ps->v[at] = *p;
		return 0;
	}
	if (ps->n == ps->cap) {
		size_t ncap = ps->cap ? ps->cap * 2 : 8;

		if ((v = realloc(ps->v, ncap * sizeof(*v))) == NULL)
			return -1;
		ps->v = v;
		ps->cap = ncap;
	}
	for (i = ps->n; i > 0 && strcmp(ps->v[i - 1].name, p->name) > 0; i--)
		ps->v[i] = ps->v[i - 1];
	ps->v[i] = *p;
	ps->n++;
	return 0;
}

int
ocss_pins_remove(struct ocss_pins *ps, const char *name)
{
	long	 at = ocss_pins_find(ps, name);

	if (at < 0)
		return 1;
	pin_clear(&ps->v[at]);
	memmove(&ps->v[at], &ps->v[at + 1], (ps->n - (size_t)at - 1) *
	    sizeof(*ps->v));
	ps->n--;
	return 0;
}

static int
is_hex64(const char *s)
{
	size_t	 i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static char *
opt_str(json_object *o, const char *key)
{
	json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

struct ocss_pins *
ocss_pins_parse(const char *text, size_t len, const char *what,
    struct ocss_err *err)
{
	struct ocss_pins	*ps;
	struct json_tokener	*tok;
	json_object		*root = NULL, *v, *files;
	enum json_tokener_error	 jerr;
	struct pin		 p;
	struct flist		 fl;
	const char		*s;

	memset(&p, 0, sizeof(p));
	memset(&fl, 0, sizeof(fl));
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		nomem(err);
		return NULL;
	}
	if (len == 0)
		return ps;
	if ((tok = json_tokener_new()) == NULL)
		goto oom;
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (root == NULL || jerr != json_tokener_success) {
		ocss_err_set(err, "%s: not JSON (%s): fix it or remove it and "
		    "pin the skills again with 'ocss pins add'", what,
		    json_tokener_error_desc(jerr));
		goto fail;
	}
	if (!json_object_is_type(root, json_type_object)) {
		ocss_err_set(err, "%s: expected an object {\"skill name\": "
		    "{\"files\": {...}}}", what);
		goto fail;
	}
	json_object_object_foreach(root, key, val) {
		if (!json_object_is_type(val, json_type_object)) {
			ocss_err_set(err, "%s: .%s: expected an object", what,
			    key);
			goto fail;
		}
		if ((p.name = strdup(key)) == NULL)
			goto oom;
		p.path = opt_str(val, "path");
		p.pinned_at = opt_str(val, "pinned_at");
		p.pinned_by = opt_str(val, "pinned_by");
		if (json_object_object_get_ex(val, "sha256", &v) &&
		    (s = json_object_get_string(v)) != NULL && is_hex64(s))
			memcpy(p.sha, s, 65);
		if (json_object_object_get_ex(val, "files", &files)) {
			if (!json_object_is_type(files, json_type_object)) {
				ocss_err_set(err, "%s: .%s.files: expected an "
				    "object of path: hex SHA-256", what, key);
				goto fail;
			}
			json_object_object_foreach(files, fk, fv) {
				s = json_object_get_string(fv);
				if (!json_object_is_type(fv,
				    json_type_string) || !is_hex64(s)) {
					ocss_err_set(err, "%s: .%s.files.%s: "
					    "expected 64 lower-case hex digits",
					    what, key, fk);
					goto fail;
				}
				if (flist_add(&fl, fk, NULL, 0) == -1)
					goto oom;
				memcpy(fl.v[fl.n - 1].sha, s, 65);
			}
		}
		if (fl.n > 1)
			qsort(fl.v, fl.n, sizeof(*fl.v), file_cmp);
		p.files = fl.v;
		p.nfiles = fl.n;
		memset(&fl, 0, sizeof(fl));
		if (put_pin(ps, &p) == -1)
			goto oom;
		memset(&p, 0, sizeof(p));
	}
	json_object_put(root);
	return ps;
oom:
	nomem(err);
fail:
	flist_free(&fl);
	pin_clear(&p);
	json_object_put(root);
	ocss_pins_free(ps);
	return NULL;
}

struct ocss_pins *
ocss_pins_load(const char *path, struct ocss_err *err)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	struct ocss_pins *ps;
	char		 chunk[8192];
	size_t		 n;
	FILE		*f;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return ocss_pins_parse("", 0, path, err);
		ocss_err_set(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (ocss_buf_append(&b, chunk, n) == -1) {
			fclose(f);
			ocss_buf_free(&b);
			nomem(err);
			return NULL;
		}
	if (ferror(f)) {
		ocss_err_set(err, "%s: read error", path);
		fclose(f);
		ocss_buf_free(&b);
		return NULL;
	}
	fclose(f);
	ps = ocss_pins_parse(b.data ? b.data : "", b.len, path, err);
	ocss_buf_free(&b);
	return ps;
}

int
ocss_pins_save(const struct ocss_pins *ps, const char *path,
    struct ocss_err *err)
{
	struct ocss_buf	 b = OCSS_BUF_INIT;
	const struct pin *p;
	size_t		 i, j;
	int		 rc = 0;

	rc |= ocss_buf_putc(&b, '{');
	for (i = 0; i < ps->n; i++) {
		p = &ps->v[i];
		rc |= ocss_buf_puts(&b, i ? ",\n  \"" : "\n  \"");
		rc |= J(&b, p->name);
		rc |= ocss_buf_puts(&b, "\": {");
		if (p->path) {
			rc |= ocss_buf_puts(&b, "\n    \"path\": \"");
			rc |= J(&b, p->path);
			rc |= ocss_buf_puts(&b, "\",");
		}
		rc |= ocss_buf_printf(&b, "\n    \"sha256\": \"%s\",\n"
		    "    \"files\": {", p->sha);
		for (j = 0; j < p->nfiles; j++) {
			rc |= ocss_buf_puts(&b, j ? ",\n      \"" :
			    "\n      \"");
			rc |= J(&b, p->files[j].path);
			rc |= ocss_buf_printf(&b, "\": \"%s\"",
			    p->files[j].sha);
		}
		rc |= ocss_buf_puts(&b, p->nfiles ? "\n    }" : "}");
		if (p->pinned_at) {
			rc |= ocss_buf_puts(&b, ",\n    \"pinned_at\": \"");
			rc |= J(&b, p->pinned_at);
			rc |= ocss_buf_putc(&b, '"');
		}
		if (p->pinned_by) {
			rc |= ocss_buf_puts(&b, ",\n    \"pinned_by\": \"");
			rc |= J(&b, p->pinned_by);
			rc |= ocss_buf_putc(&b, '"');
		}
		rc |= ocss_buf_puts(&b, "\n  }");
	}
	rc |= ocss_buf_puts(&b, ps->n ? "\n}\n" : "}\n");
	if (rc) {
		ocss_buf_free(&b);
		return nomem(err);
	}
	rc = ocss_quarantine_write_file(path, b.data, b.len, 0644, err);
	ocss_buf_free(&b);
	return rc;
}

int
ocss_pins_add(struct ocss_pins *ps, const char *name, const char *path,
    const char *user, int64_t now, struct ocss_err *err)
{
	struct pin	 p;
	struct flist	 l;
	struct tm	 tm;
	time_t		 t = (time_t)(now / 1000);
	char		 abs[PATH_MAX], ts[32];
	size_t		 i;
	int		 rc;

	memset(&p, 0, sizeof(p));
	if (name == NULL || *name == '\0') {
		ocss_err_set(err, "a pin needs a skill name");
		return -1;
	}
	if (realpath(path, abs) == NULL) {
		ocss_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((rc = hash_tree(abs, &l, p.sha, err)) != 0) {
		if (rc == 1)
			ocss_err_set(err, "%s: no such file or directory",
			    abs);
		return -1;
	}
	for (i = 0; i < l.n; i++) {
		free(l.v[i].full);
		l.v[i].full = NULL;
	}
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	p.files = l.v;
	p.nfiles = l.n;
	if ((p.name = strdup(name)) == NULL || (p.path = strdup(abs)) == NULL ||
	    (p.pinned_at = strdup(ts)) == NULL ||
	    (user && (p.pinned_by = strdup(user)) == NULL) ||
	    put_pin(ps, &p) == -1) {
		pin_clear(&p);
		return nomem(err);
	}
	return 0;
}

void
ocss_pins_result_free(struct ocss_pins_result *r)
{
	size_t	 i;

	for (i = 0; i < r->nchanged; i++)
		free(r->changed[i]);
	for (i = 0; i < r->nadded; i++)
		free(r->added[i]);
	for (i = 0; i < r->nmissing; i++)
		free(r->missing[i]);
	free(r->changed);
	free(r->added);
	free(r->missing);
	memset(r, 0, sizeof(*r));
}

static int
res_add(char ***v, size_t *n, const char *s)
{
	char	**nv;

	if ((nv = realloc(*v, (*n + 1) * sizeof(**v))) == NULL)
		return -1;
	*v = nv;
	if ((nv[*n] = strdup(s)) == NULL)
		return -1;
	(*n)++;
	return 0;
}

int
ocss_pins_verify(const struct ocss_pins *ps, const char *name,
    struct ocss_pins_result *res, struct ocss_err *err)
{
	const struct pin *p;
	struct flist	 l;
	char		 agg[65];
	size_t		 i = 0, j = 0;
	long		 at;
	int		 c, rc;

	memset(res, 0, sizeof(*res));
	if ((at = ocss_pins_find(ps, name)) < 0) {
		ocss_err_set(err, "no pin for skill '%s' (see 'ocss pins "
		    "list'; pin it with 'ocss pins add PATH --name %s')",
		    name, name);
		return -1;
	}
	p = &ps->v[at];
	if (p->path == NULL) {
		ocss_err_set(err, "pin of '%s' has no path or no per-file "
		    "hashes (an older format): pin it again with 'ocss pins "
		    "add PATH --name %s'", name, name);
		return -1;
	}
	if ((rc = hash_tree(p->path, &l, agg, err)) == -1)
		return -1;
	/* Both lists are sorted by path: one merge pass. */
	while (i < p->nfiles || j < l.n) {
		if (i == p->nfiles)
			c = 1;
		else if (j == l.n)
			c = -1;
		else
			c = strcmp(p->files[i].path, l.v[j].path);
		if (c < 0)
			rc = res_add(&res->missing, &res->nmissing,
			    p->files[i++].path);
		else if (c > 0)
			rc = res_add(&res->added, &res->nadded,
			    l.v[j++].path);
		else {
			rc = strcmp(p->files[i].sha, l.v[j].sha) == 0 ? 0 :
			    res_add(&res->changed, &res->nchanged,
			    p->files[i].path);
			i++;
			j++;
		}
		if (rc == -1) {
			flist_free(&l);
			return nomem(err);
		}
	}
	flist_free(&l);
	return res->nchanged || res->nadded || res->nmissing ? 1 : 0;
}
