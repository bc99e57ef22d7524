# make install / make uninstall: scripts/install.sh does the work (docs/operations.md, "Install").
#   make install                  build release binaries, install, enable and start jalmd (as root)
#   make install DESTDIR=/srv/r   install into another root; nothing is started
#   make uninstall [PURGE=1]      stop and remove; PURGE=1 also removes /etc/jalm and /var/lib/jalm
DESTDIR ?=
PURGE ?= 0

.PHONY: install uninstall

install:
	DESTDIR="$(DESTDIR)" scripts/install.sh

uninstall:
	DESTDIR="$(DESTDIR)" scripts/install.sh --uninstall $(if $(filter 1,$(PURGE)),--purge,)
