/* Unit tests for media.c: local paths, capped reads, MIME types, media lists. */
#include <config.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "daemon/conf.h"
#include "daemon/media.h"
#include "tests/unit/unit.h"

static const struct media_rules rules = {
	.max_items = 2,
	.items = "things",
	.max_bytes = 8,
	.too_big = "over 8 bytes",
	.what = "media",
};

static const struct media_rules image_rules = {
	.max_items = 4,
	.items = "images",
	.max_bytes = 1024,
	.too_big = "too big",
	.what = "image",
	.images_only = true,
};

static char	dir[PATH_MAX];

/* Makes a fresh directory for one test's files. */
static void
setup(void)
{
	const char	*t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/check_media.XXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes the test's files and directory. */
static void
teardown(void)
{
	char	cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* ck_assert on a malloc'd path, then frees it. */
static void
path_is(char *got, const char *want)
{
	if (want == NULL)
		ck_assert_ptr_null(got);
	else
		ck_assert_str_eq(got, want);
	free(got);
}

/* file:// URIs (decoded), absolute paths; relative paths and URLs are not local. */
START_TEST(test_local_path)
{
	path_is(media_local_path("file:///srv/img/a.png"), "/srv/img/a.png");
	path_is(media_local_path("FILE:///srv/a.png"), "/srv/a.png");
	path_is(media_local_path("file://localhost/srv/a.png"), "/srv/a.png");
	path_is(media_local_path("file:///srv/ogw%20banner.png"),
	    "/srv/ogw banner.png");
	path_is(media_local_path("file:///srv/%e2%82%ac%2"), "/srv/\xe2\x82\xac%2");
	path_is(media_local_path("file:///srv/a%00b.png"), NULL);
	path_is(media_local_path("/srv/img/a b.png"), "/srv/img/a b.png");
	path_is(media_local_path("/srv/a%20b.png"), "/srv/a%20b.png");
	path_is(media_local_path("file://img/a.png"), NULL);
	path_is(media_local_path("img/a.png"), "img/a.png");
	path_is(media_local_path("data:image/png;base64,AAAA"), NULL);
	path_is(media_local_path("https://example.org/a.png"), NULL);
	path_is(media_local_path("http://example.org/a.png"), NULL);
}
END_TEST

/* Types from extensions, any case, query and fragment ignored; names from paths and URLs. */
START_TEST(test_guess_type)
{
	char	*s;

	ck_assert_str_eq(media_guess_type("a.png"), "image/png");
	ck_assert_str_eq(media_guess_type("/x/A.JPG"), "image/jpeg");
	ck_assert_str_eq(media_guess_type("a.jpeg"), "image/jpeg");
	ck_assert_str_eq(media_guess_type("https://h/a.gif?v=2#top"),
	    "image/gif");
	ck_assert_str_eq(media_guess_type("a.webp"), "image/webp");
	ck_assert_str_eq(media_guess_type("a.mp4"), "video/mp4");
	ck_assert_str_eq(media_guess_type("a.mp3"), "audio/mpeg");
	ck_assert_ptr_null(media_guess_type("a.txt"));
	ck_assert_ptr_null(media_guess_type("png"));
	ck_assert_ptr_null(media_guess_type("https://h/a.png/x"));
	s = media_file_name("https://h/img/logo.png?v=2");
	ck_assert_str_eq(s, "logo.png");
	free(s);
	s = media_file_name("/srv/ogw banner.png");
	ck_assert_str_eq(s, "ogw banner.png");
	free(s);
}
END_TEST

static const char PNG[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
static const char JPEG[] = "\xff\xd8\xff\xe0\0\x10JFIF\0";
static const char MP4[] = "\0\0\0\x18" "ftypisom\0\0\0\0";

static char	state[PATH_MAX], media[PATH_MAX + 8];

/* Sets the media policy: state in DIR/state, media_dirs DIRS (NULL: the default). */
static void
policy(const char *const *dirs, size_t n, const char *secret)
{
	static struct cfg_kv	 kv;
	static struct cfg_channel ch;
	struct config		 c;
	char			 err[512];

	memset(&c, 0, sizeof(c));
	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(state, 0700);
	snprintf(media, sizeof(media), "%s/media", state);
	c.state_dir = state;
	c.media_dirs = (char **)(uintptr_t)dirs;
	c.nmedia_dirs = n;
	if (secret != NULL) {
		kv.key = "token_file";
		kv.value = (char *)(uintptr_t)secret;
		ch.kv = &kv;
		ch.nkv = 1;
		c.chans = &ch;
		c.nchans = 1;
	}
	ck_assert_int_eq(media_setup(&c, true, err, sizeof(err)), 0);
}

/* Writes N bytes of S to PATH. */
static void
write_file(const char *path, const char *s, size_t n)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(s, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* Asserts media_check(PATH, FMTTYPE) fails with an error that contains WANT. */
static void
refused(const char *path, const char *fmttype, const struct media_rules *r,
    const char *want)
{
	char	err[PATH_MAX + 256];

	ck_assert_int_eq(media_check(path, fmttype, r, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		ck_abort_msg("\"%s\" lacks \"%s\"", err, want);
}

/* Types come from the first bytes, never from names or FMTTYPE. */
START_TEST(test_sniff)
{
	const char	*t;
	char		 err[256];

	ck_assert_str_eq(media_sniff((const unsigned char *)PNG, 16), "image/png");
	ck_assert_str_eq(media_sniff((const unsigned char *)JPEG, 12), "image/jpeg");
	ck_assert_str_eq(media_sniff((const unsigned char *)"GIF89a....", 10),
	    "image/gif");
	ck_assert_str_eq(media_sniff((const unsigned char *)"RIFF\0\0\0\0WEBPVP8 ",
	    16), "image/webp");
	ck_assert_str_eq(media_sniff((const unsigned char *)MP4, 16), "video/mp4");
	ck_assert_ptr_null(media_sniff((const unsigned char *)"root:x:0:0:", 11));
	ck_assert_ptr_null(media_sniff((const unsigned char *)"\x89PN", 3));
	ck_assert_int_eq(media_content_type(JPEG, 12, "image/jpg", &image_rules,
	    &t, err, sizeof(err)), 0);
	ck_assert_str_eq(t, "image/jpeg");
	ck_assert_int_eq(media_content_type(JPEG, 12, "image/png", &image_rules,
	    &t, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "FMTTYPE says image/png but the content is "
	    "image/jpeg");
	ck_assert_int_eq(media_content_type(MP4, 16, NULL, &image_rules, &t, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "video/mp4, not an image");
	ck_assert_int_eq(media_content_type(MP4, 16, NULL, NULL, &t, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(media_content_type("hello", 5, NULL, NULL, &t, err,
	    sizeof(err)), -1);
}
END_TEST

/* Files come only from the media directories, by no symbolic link. */
START_TEST(test_confined)
{
	char	 p[PATH_MAX + 64], q[PATH_MAX + 64], secret[PATH_MAX + 64];
	char	 err[PATH_MAX + 256];
	struct stat sb;

	snprintf(secret, sizeof(secret), "%s/state/media/token", dir);
	policy(NULL, 0, secret);
	/* the default media dir is made, 0750 */
	ck_assert_int_eq(stat(media, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0750);
	snprintf(p, sizeof(p), "%s/ok.png", media);
	write_file(p, PNG, 16);
	ck_assert_int_eq(media_check(p, NULL, &image_rules, err, sizeof(err)), 0);
	ck_assert_int_eq(media_check("ok.png", "image/png", &image_rules, err,
	    sizeof(err)), 0);
	snprintf(q, sizeof(q), "%s/state/media/../media/ok.png", dir);
	refused(q, NULL, &image_rules, "outside the media directories");
	/* a PNG named .txt is a PNG; FMTTYPE that lies is a problem */
	snprintf(p, sizeof(p), "%s/chart.txt", media);
	write_file(p, PNG, 16);
	ck_assert_int_eq(media_check(p, NULL, &image_rules, err, sizeof(err)), 0);
	snprintf(p, sizeof(p), "%s/photo.png", media);
	write_file(p, JPEG, 12);
	refused(p, "image/png", &image_rules, "FMTTYPE says image/png but the "
	    "content is image/jpeg");
	snprintf(p, sizeof(p), "%s/notes.png", media);
	write_file(p, "just text", 9);
	refused(p, NULL, NULL, "not a PNG, JPEG, GIF or WebP image");
	/* outside, by path, by .., by a link */
	snprintf(p, sizeof(p), "%s/outside.png", dir);
	write_file(p, PNG, 16);
	refused(p, NULL, NULL, "outside the media directories (media_dirs)");
	refused("../../outside.png", NULL, NULL, "outside the media directories");
	refused("/etc/passwd", NULL, NULL, "outside the media directories");
	snprintf(q, sizeof(q), "%s/link.png", media);
	ck_assert_int_eq(symlink(p, q), 0);
	refused(q, NULL, NULL, "a symbolic link");
	refused("link.png", NULL, NULL, "a symbolic link");
	snprintf(q, sizeof(q), "%s/sub", media);
	ck_assert_int_eq(symlink(dir, q), 0);
	refused("sub/outside.png", NULL, NULL, "a symbolic link");
	/* not files, and secrets */
	snprintf(q, sizeof(q), "%s/fifo.png", media);
	ck_assert_int_eq(mkfifo(q, 0600), 0);
	refused(q, NULL, NULL, "not a regular file");
	refused(media, NULL, NULL, "a directory");
	write_file(secret, PNG, 16);
	policy(NULL, 0, secret);
	refused(secret, NULL, NULL, "a secret or configuration file");
	refused("missing.png", NULL, NULL, "No such file");
	media_shutdown();
}
END_TEST

/* A media dir holding the state dir still never yields crier's own files. */
START_TEST(test_state_dir)
{
	const char	*dirs[1];
	char		 p[PATH_MAX + 64], err[PATH_MAX + 256];

	dirs[0] = dir;
	policy(dirs, 1, NULL);
	snprintf(p, sizeof(p), "%s/crier.db", state);
	write_file(p, PNG, 16);
	refused(p, NULL, NULL, "in crier's state directory");
	refused("state/crier.db", NULL, NULL, "in crier's state directory");
	snprintf(p, sizeof(p), "%s/banner.png", dir);
	write_file(p, PNG, 16);
	ck_assert_int_eq(media_check(p, NULL, NULL, err, sizeof(err)), 0);
	media_shutdown();
}
END_TEST

/* A file within the cap is read whole; others are refused with the reason. */
START_TEST(test_read)
{
	char	 path[PATH_MAX + 32], err[PATH_MAX + 128], want[sizeof(err)];
	char	*data = NULL;
	size_t	 len = 0;

	policy(NULL, 0, NULL);
	snprintf(path, sizeof(path), "%s/ok.png", media);
	write_file(path, "12345678", 8);
	ck_assert_int_eq(media_read(path, &rules, &data, &len, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(memcmp(data, "12345678", 8), 0);
	free(data);

	data = NULL;
	snprintf(path, sizeof(path), "%s/big.png", media);
	write_file(path, "123456789", 9);
	ck_assert_int_eq(media_read(path, &rules, &data, &len, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(data);
	snprintf(want, sizeof(want), "media %s: over 8 bytes", path);
	ck_assert_str_eq(err, want);

	snprintf(path, sizeof(path), "%s/empty.png", media);
	write_file(path, "", 0);
	ck_assert_int_eq(media_read(path, &rules, &data, &len, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "media %s: empty", path);
	ck_assert_str_eq(err, want);
	media_shutdown();
}
END_TEST

/* A media list: local files read and typed by content, URLs kept for later. */
START_TEST(test_parse)
{
	char		 path[PATH_MAX + 32], json[2 * PATH_MAX], err[PATH_MAX + 128];
	struct media	*l;
	size_t		 n;

	policy(NULL, 0, NULL);
	snprintf(path, sizeof(path), "%s/a b.png", media);
	write_file(path, PNG, 8);
	/* the space, percent-encoded */
	snprintf(json, sizeof(json), "[{\"uri\": \"file://%s/a%%20b.png\", "
	    "\"alt\": \"A chart\"}, {\"uri\": "
	    "\"https://example.org/logo.png?v=2\"}]", media);
	ck_assert_int_eq(media_parse(json, &image_rules, &l, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(l[0].path, path);
	ck_assert_str_eq(l[0].type, "image/png");
	ck_assert_str_eq(l[0].alt, "A chart");
	ck_assert_uint_eq(l[0].len, 8);
	ck_assert_str_eq(l[1].uri, "https://example.org/logo.png?v=2");
	ck_assert_ptr_null(l[1].path);
	ck_assert_ptr_null(l[1].data);
	ck_assert_ptr_null(l[1].type);
	media_free(l, n);
	ck_assert_int_eq(media_parse("[{\"uri\": \"a b.png\"}]", &image_rules,
	    &l, &n, err, sizeof(err)), 0);
	ck_assert_str_eq(l[0].type, "image/png");
	media_free(l, n);
	media_shutdown();
}
END_TEST

/* Lists that are not JSON arrays, too long, or with refused entries fail. */
START_TEST(test_parse_errors)
{
	char		 json[2 * PATH_MAX], err[PATH_MAX + 128];
	struct media	*l;
	size_t		 n;

	policy(NULL, 0, NULL);
	ck_assert_int_eq(media_parse("[{", &rules, &l, &n, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "unreadable media list");
	ck_assert_ptr_null(l);
	ck_assert_int_eq(media_parse("[{\"uri\": \"https://h/a\"}, {\"uri\": "
	    "\"https://h/b\"}, {\"uri\": \"https://h/c\"}]", &rules, &l, &n,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "more than 2 things");
	ck_assert_int_eq(media_parse("[{\"alt\": \"x\"}]", &rules, &l, &n, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "an attachment without a URI");
	ck_assert_int_eq(media_parse("[{\"uri\": \"ftp://h/a.png\"}]", &rules,
	    &l, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(strncmp(err, "media ftp://h/a.png: ", 21), 0);
	ck_assert_int_eq(media_parse("[{\"uri\": \"https://127.0.0.1/a.png\"}]",
	    &rules, &l, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "127.0.0.1 is a loopback address"));
	ck_assert_int_eq(media_parse("[{\"uri\": \"https://[::ffff:127.0.0.1]/a\"}]",
	    &rules, &l, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "loopback"));
	snprintf(json, sizeof(json), "[{\"uri\": \"https://h/a\"}, {\"uri\": "
	    "\"file:///etc/shadow\"}]");
	ck_assert_int_eq(media_parse(json, &rules, &l, &n, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "media /etc/shadow: outside the media directories "
	    "(media_dirs)");
	ck_assert_ptr_null(l);
	media_shutdown();
}
END_TEST

/* The suite. */
static Suite *
media_suite(void)
{
	Suite	*s = suite_create("media");
	TCase	*tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_local_path);
	tcase_add_test(tc, test_guess_type);
	tcase_add_test(tc, test_sniff);
	tcase_add_test(tc, test_confined);
	tcase_add_test(tc, test_state_dir);
	tcase_add_test(tc, test_read);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_errors);
	suite_add_tcase(s, tc);
	return (s);
}

/* Runs the suite. */
int
main(void)
{
	return (unit_run(media_suite(), 0));
}
