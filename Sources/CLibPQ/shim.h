// libpq, PostgreSQL's client library (Debian: libpq-dev). Only EvctlCore's Postgres files import it.
// Not linked: CLoadOnUse defines the functions evctl calls and loads libpq.so.5 on first use.
#include <postgresql/libpq-fe.h>
