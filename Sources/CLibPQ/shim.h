// libpq, PostgreSQL's client library (Debian: libpq-dev). Only EvctlCore's Postgres files import it.
#include <postgresql/libpq-fe.h>
