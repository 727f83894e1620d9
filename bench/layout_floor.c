/*
 * layout_floor.c: the file work one dump needs and nothing else, in C, N times over, to
 * show how much of the server's fixed CPU per dump its disk layout makes unavoidable.
 *
 *   layout_floor DIR N ours|ref [KIB]
 *
 * ours: what SPEC section 3 asks and netdump-server does: a directory per dump, the
 *       reports' reserved temporary files, vmcore-incomplete, KIB KiB of data in 64 KiB
 *       writes, fsync of the core and of the parent directory, the core renamed, info and
 *       dump.json written into their reserved files, fsynced and renamed, the dump directory
 *       fsynced.
 * ref:  the reference server's files: <ip>.vmcore, <ip>.kdh and <ip>.info in one directory,
 *       the same names reused (O_TRUNC) for every dump from one client, three fsyncs.
 *
 * KIB is rounded up to whole 64 KiB writes.
 *
 * Prints the process's CPU (user + system) per dump. Every error is fatal.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void check(int ok, const char *what)
{
	if (!ok) {
		perror(what);
		exit(1);
	}
}

static double cpu_seconds(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_utime.tv_sec + r.ru_stime.tv_sec + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static int create(const char *path, int flags, const void *data, size_t length)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);
	check(fd >= 0, path);
	check(length == 0 || write(fd, data, length) == (ssize_t)length, "write");
	return fd;
}

static void write_core(int fd, const char *buffer, int kib)
{
	for (int k = 0; k < kib; k += 64)
		check(pwrite(fd, buffer, 65536, (off_t)k * 1024) == 65536, "pwrite");
}

static void fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	check(fd >= 0 && fsync(fd) == 0, path);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[3], "ours") && strcmp(argv[3], "ref"))) {
		fprintf(stderr, "usage: layout_floor DIR N ours|ref [KIB]\n");
		return 2;
	}
	const char *root = argv[1];
	int n = atoi(argv[2]), ours = !strcmp(argv[3], "ours"), kib = argc > 4 ? atoi(argv[4]) : 0;
	if (n < 1 || kib < 0) {
		fprintf(stderr, "layout_floor: N must be at least 1, KIB at least 0\n");
		return 2;
	}
	static char buffer[65536], report[800];
	memset(report, 'x', sizeof report - 1);
	char dir[512], path[640], final[640];
	double start = cpu_seconds();
	for (int i = 0; i < n; i++) {
		if (ours) {
			snprintf(dir, sizeof dir, "%s/127.0.0.1-%d", root, i);
			check(mkdir(dir, 0700) == 0, dir);
			const char *names[2] = { "info", "dump.json" };
			const size_t reserve[2] = { 4096, 12288 };
			for (int j = 0; j < 2; j++) {
				snprintf(path, sizeof path, "%s/.%s.final.tmp", dir, names[j]);
				close(create(path, O_EXCL, buffer, reserve[j]));
			}
			snprintf(path, sizeof path, "%s/vmcore-incomplete", dir);
			int core = create(path, O_EXCL, NULL, 0);
			write_core(core, buffer, kib);
			check(fsync(core) == 0, "fsync core");
			fsync_path(root);
			snprintf(final, sizeof final, "%s/vmcore", dir);
			check(rename(path, final) == 0, "rename core");
			close(core);
			for (int j = 0; j < 2; j++) {
				snprintf(path, sizeof path, "%s/.%s.final.tmp", dir, names[j]);
				int fd = open(path, O_WRONLY | O_CLOEXEC);
				check(fd >= 0 && write(fd, report, strlen(report)) == (ssize_t)strlen(report), path);
				check(ftruncate(fd, strlen(report)) == 0 && fsync(fd) == 0, "report");
				close(fd);
				snprintf(final, sizeof final, "%s/%s", dir, names[j]);
				check(rename(path, final) == 0, "rename report");
			}
			fsync_path(dir);
		} else {
			snprintf(path, sizeof path, "%s/127.0.0.1.vmcore", root);
			int core = create(path, O_TRUNC, NULL, 0);
			write_core(core, buffer, kib);
			snprintf(path, sizeof path, "%s/127.0.0.1.kdh", root);
			int kdh = create(path, O_TRUNC, buffer, 512);
			check(fsync(core) == 0 && fsync(kdh) == 0, "fsync");
			close(core);
			close(kdh);
			snprintf(path, sizeof path, "%s/127.0.0.1.info", root);
			int info = create(path, O_TRUNC, report, strlen(report));
			check(fsync(info) == 0, "fsync info");
			close(info);
		}
	}
	printf("%.2f\n", (cpu_seconds() - start) * 1000 / n);
	return 0;
}
