// libpq, the PostgreSQL client library (Debian's libpq-dev puts it under /usr/include/postgresql).
#include <postgresql/libpq-fe.h>
