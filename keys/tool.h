/* tool.h - shared helpers of the liandong-keys tool (tool.c, tool_roster.c). */
#ifndef LDK_TOOL_H
#define LDK_TOOL_H

#define TOOL_NAME "liandong-keys"
#define TOOL_EXIT_FAIL 1  /* the command failed; one line on stderr */
#define TOOL_EXIT_USAGE 2 /* the command line is wrong; one line on stderr */

/* Print "liandong-keys: <sentence>" on stderr; return TOOL_EXIT_FAIL. */
int tool_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "liandong-keys: <sentence> (see 'liandong-keys CMD --help')" on
 * stderr; return TOOL_EXIT_USAGE. */
int tool_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report the getopt_long result c ('?' or ':') for argv; return TOOL_EXIT_USAGE. */
int tool_bad_option(const char *cmd, int c, char **argv);

/* liandong-keys roster add|revoke|list; argv[0] is "roster". */
int tool_roster(int argc, char **argv);

#endif
