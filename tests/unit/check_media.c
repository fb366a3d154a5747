/* Unit tests for media.c: local paths, capped reads, MIME types, media lists. */
#include <config.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "daemon/media.h"

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

/* Writes N bytes of S to DIR/NAME; the full path in PATH. */
static void
put(const char *name, const char *s, size_t n, char *path, size_t len)
{
	FILE	*f;

	snprintf(path, len, "%s/%s", dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(s, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
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
	path_is(media_local_path("img/a.png"), NULL);
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

/* A file within the cap is read whole; others are refused with the reason. */
START_TEST(test_read)
{
	char	 path[PATH_MAX + 32], err[PATH_MAX + 128], want[sizeof(err)];
	char	*data = NULL;
	size_t	 len = 0;

	put("ok.png", "12345678", 8, path, sizeof(path));
	ck_assert_int_eq(media_read(path, &rules, &data, &len, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(memcmp(data, "12345678", 8), 0);
	free(data);
	ck_assert_int_eq(media_check(path, &rules, err, sizeof(err)), 0);

	data = NULL;
	put("big.png", "123456789", 9, path, sizeof(path));
	ck_assert_int_eq(media_read(path, &rules, &data, &len, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(data);
	snprintf(want, sizeof(want), "media %s: over 8 bytes", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(media_check(path, &rules, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);

	put("empty.png", "", 0, path, sizeof(path));
	ck_assert_int_eq(media_read(path, &rules, &data, &len, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "media %s: empty", path);
	ck_assert_str_eq(err, want);

	ck_assert_int_eq(media_read(dir, &rules, &data, &len, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "media %s: not a regular file", dir);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(media_check(dir, &rules, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);

	snprintf(path, sizeof(path), "%s/missing.png", dir);
	ck_assert_int_eq(media_read(path, &image_rules, &data, &len, err,
	    sizeof(err)), -1);
	snprintf(want, sizeof(want), "image %s: No such file", path);
	ck_assert_int_eq(strncmp(err, want, strlen(want)), 0);
	ck_assert_int_eq(media_check(path, &image_rules, err, sizeof(err)), -1);
	ck_assert_int_eq(strncmp(err, want, strlen(want)), 0);
	ck_assert_ptr_null(data);
}
END_TEST

/* A media list: local files read, URLs kept for later, fields as given. */
START_TEST(test_parse)
{
	char		 path[PATH_MAX + 32], json[2 * PATH_MAX], err[PATH_MAX + 128];
	struct media	*l;
	size_t		 n;

	put("a b.png", "PNG", 3, path, sizeof(path));
	/* the space, percent-encoded */
	snprintf(json, sizeof(json), "[{\"uri\": \"file://%s/a%%20b.png\", "
	    "\"fmttype\": \"image/png\", \"alt\": \"A chart\"}, {\"uri\": "
	    "\"https://example.org/logo.png?v=2\"}]", dir);
	ck_assert_int_eq(media_parse(json, &rules, &l, &n, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(l[0].path, path);
	ck_assert_str_eq(l[0].type, "image/png");
	ck_assert_str_eq(l[0].alt, "A chart");
	ck_assert_uint_eq(l[0].len, 3);
	ck_assert_int_eq(memcmp(l[0].data, "PNG", 3), 0);
	ck_assert_str_eq(l[1].uri, "https://example.org/logo.png?v=2");
	ck_assert_ptr_null(l[1].path);
	ck_assert_ptr_null(l[1].data);
	ck_assert_ptr_null(l[1].type);
	ck_assert_ptr_null(l[1].alt);
	media_free(l, n);

	ck_assert_int_eq(media_parse("[]", &rules, &l, &n, err, sizeof(err)),
	    0);
	ck_assert_uint_eq(n, 0);
	media_free(l, n);
}
END_TEST

/* Lists that are not JSON arrays, too long, or with bad entries are refused. */
START_TEST(test_parse_errors)
{
	char		 json[2 * PATH_MAX], err[PATH_MAX + 128], want[sizeof(err)];
	struct media	*l;
	size_t		 n;

	ck_assert_int_eq(media_parse("[{", &rules, &l, &n, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "unreadable media list");
	ck_assert_ptr_null(l);
	ck_assert_int_eq(media_parse("{\"uri\": \"/a.png\"}", &rules, &l, &n,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unreadable media list");
	ck_assert_int_eq(media_parse("[{\"uri\": \"https://h/a\"}, {\"uri\": "
	    "\"https://h/b\"}, {\"uri\": \"https://h/c\"}]", &rules, &l, &n,
	    err, sizeof(err)), -1);
	ck_assert_str_eq(err, "more than 2 things");
	ck_assert_int_eq(media_parse("[{\"alt\": \"x\"}]", &rules, &l, &n, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "an attachment without a URI");
	ck_assert_int_eq(media_parse("[{\"uri\": \"img/a.png\"}]", &rules, &l,
	    &n, err, sizeof(err)), -1);
	ck_assert_int_eq(strncmp(err, "media img/a.png: ", 17), 0);
	ck_assert_int_eq(media_parse("[{\"uri\": \"ftp://h/a.png\"}]", &rules,
	    &l, &n, err, sizeof(err)), -1);
	ck_assert_int_eq(strncmp(err, "media ftp://h/a.png: ", 21), 0);
	snprintf(json, sizeof(json), "[{\"uri\": \"https://h/a\"}, {\"uri\": "
	    "\"file://%s/missing.png\"}]", dir);
	ck_assert_int_eq(media_parse(json, &rules, &l, &n, err, sizeof(err)),
	    -1);
	snprintf(want, sizeof(want), "media %s/missing.png: ", dir);
	ck_assert_int_eq(strncmp(err, want, strlen(want)), 0);
	ck_assert_ptr_null(l);

	/* images only: the type is given or guessed, and image/ */
	ck_assert_int_eq(media_parse("[{\"uri\": \"https://h/a.mp4\"}]",
	    &image_rules, &l, &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "attachment https://h/a.mp4: not an image");
	ck_assert_int_eq(media_parse("[{\"uri\": \"https://h/a\"}]",
	    &image_rules, &l, &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "attachment https://h/a: unknown type (set "
	    "FMTTYPE)");
	ck_assert_int_eq(media_parse("[{\"uri\": \"https://h/a\", \"fmttype\": "
	    "\"image/png\"}]", &image_rules, &l, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	media_free(l, n);
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
	SRunner	*sr = srunner_create(media_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
