#ifndef CNCURSES_SHIM_H
#define CNCURSES_SHIM_H
/* The wide-character API (get_wch, add_wch, cchar_t) is declared only when these are set before the
   first include of curses.h. SwiftPM drops the -D flags pkg-config gives, so they are set here. */
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1

#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1

#endif
#include <locale.h>
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/curses.h>

/* Swift 6 rejects reading C mutable globals (stdscr, LINES, COLS, stdout): accessors instead. */
static inline WINDOW *cn_stdscr(void) { return stdscr; }

/* newterm returns NULL on an unknown TERM, where initscr would exit(1) and take the server with it. */
static inline SCREEN *cn_newterm(const char *term) { return newterm(term, stdout, stdin); }

/* Function-like macros and casted constants are not imported by Swift. */
static inline int cn_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int cn_getmaxy(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)x; return y; }
static inline int cn_getmaxx(WINDOW *w) { int y, x; getmaxyx(w, y, x); (void)y; return x; }
static inline attr_t cn_a_bold(void) { return A_BOLD; }
static inline attr_t cn_a_reverse(void) { return A_REVERSE; }
static inline attr_t cn_a_dim(void) { return A_DIM; }
static inline attr_t cn_a_underline(void) { return A_UNDERLINE; }
static inline attr_t cn_a_normal(void) { return A_NORMAL; }
static inline int cn_key_code_yes(void) { return KEY_CODE_YES; }

/* Drawing and input on stdscr (macros in ncurses). */
static inline int cn_mvaddwstr(int y, int x, const wchar_t *s) { return mvwaddwstr(stdscr, y, x, s); }
static inline int cn_attrset(attr_t a, int pair) { return wattr_set(stdscr, a, (short)pair, NULL); }
static inline int cn_get_wch(wint_t *out) { return wget_wch(stdscr, out); }
static inline void cn_timeout(int ms) { wtimeout(stdscr, ms); }
static inline int cn_erase(void) { return werase(stdscr); }
static inline int cn_clearok(void) { return clearok(stdscr, TRUE); }
static inline int cn_refresh(void) { return wrefresh(stdscr); }
static inline int cn_keypad(void) { return keypad(stdscr, TRUE); }
static inline int cn_clrtoeol_at(int y, int x) { wmove(stdscr, y, x); return wclrtoeol(stdscr); }

/* The window size from the terminal itself, to catch a resize whose SIGWINCH never arrived
   (a blocked signal, a missed event). Returns 0 and fills rows/cols, or -1. */
#include <sys/ioctl.h>
#include <unistd.h>
static inline int cn_window_size(int *rows, int *cols) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return -1;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 0;
}

/* Best-effort terminal restore when the process dies of a fatal signal: endwin() is not
   async-signal-safe, but the process is going away and a usable terminal is worth the risk. */
#include <signal.h>
#include <string.h>
static inline void cn_fatal_signal_handler(int sig) {
    endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}
static inline void cn_install_fatal_restore(void) {
    int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = cn_fatal_signal_handler;
        action.sa_flags = SA_RESETHAND;
        sigaction(sigs[i], &action, NULL);
    }
}

#endif
