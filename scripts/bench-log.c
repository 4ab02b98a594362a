/* Benchmark harness for scripts/bench-log: every line of a file through
 * libapparmor's parse_record(), as a log reader built on libapparmor does.
 * Prints the number of lines and of records that are not AA_RECORD_INVALID.
 * Build: cc -O2 -o bench-log-aa scripts/bench-log.c -lapparmor */
#define _GNU_SOURCE
#include <aalogparse/aalogparse.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lines = 0, valid = 0, denied = 0;
	while ((len = getline(&line, &cap, f)) != -1) {
		lines++;
		aa_log_record *r = parse_record(line);
		if (r) {
			if (r->event != AA_RECORD_INVALID)
				valid++;
			if (r->event == AA_RECORD_DENIED)
				denied++;
			free_record(r);
		}
	}
	free(line);
	fclose(f);
	printf("lines %lu records %lu denials %lu\n", lines, valid, denied);
	return 0;
}
