// evctl links libpq and libcurl on first use instead of at start (issue 15 item 7: startup).
// Their ~30 shared libraries (Kerberos, LDAP, GnuTLS, …) made the dynamic loader the larger part
// of every command's start; load_on_use.c defines the functions evctl calls and loads the
// library the first time one of them is called.
#pragma once

/// Whether libpq (1) or libcurl (2) has been loaded into the process; for tests.
int evctl_load_on_use_loaded(int library);
