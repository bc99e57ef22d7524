#include "CSeccomp.h"
#include <seccomp.h>

char *jalm_syscall_name(int nr) {
    // libseccomp's table is the one the launcher's filter was built from, so the names agree.
    return seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
}
