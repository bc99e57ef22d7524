#ifndef JALM_CSECCOMP_H
#define JALM_CSECCOMP_H

/// The name of syscall number `nr` on this machine's architecture, or NULL. The caller frees it.
char *jalm_syscall_name(int nr);

#endif
