# The Debian package "shopd": `cpack -G DEB` in the build dir (or `cmake --build . --target
# package`) writes shopd_<version>_<arch>.deb. Included last from the top-level CMakeLists.txt,
# once every target exists.
#
# Only the install component "runtime" goes into the package (the SDK's "sdk" component is for
# `cmake --install --prefix P`). The runtime rules install at absolute Debian paths (/usr/bin,
# /etc/shopd, /lib/systemd/system), so they are EXCLUDE_FROM_ALL: a plain `cmake --install
# --prefix P` never writes outside P; `cmake --install . --component runtime` and cpack do.
#
#   /usr/bin/shopd, /usr/bin/reservation-release, /usr/bin/shopctl (when built)
#   /usr/lib/shopd/plugins/{catalog,customers,pricing,cart,checkout}.so
#   /usr/share/shopd/sql/NNN_*.sql, /usr/share/shopd/scripts/{migrate,lib.sh}
#   /usr/share/shopd/nginx/shopd.conf.template
#   /lib/systemd/system/{shopd.service,shopd.socket,reservation-release.service,
#                        reservation-release.timer}
#   /etc/shopd/{shopd.env,reservation-release.env}  conffiles, mode 0640, root:shopd (postinst)
#   /usr/share/doc/shopd/README.md
# The units' ExecStart paths are these paths (systemd/*.service); tests/package_test.sh checks
# the package with dpkg-deb, `systemd-analyze verify` and `systemd-analyze security`.

set(SHOPD_PKG_COMPONENT runtime)
set(SHOPD_PKG_BINDIR /usr/bin)
set(SHOPD_PKG_PLUGINDIR /usr/lib/shopd/plugins)
set(SHOPD_PKG_DATADIR /usr/share/shopd)
set(SHOPD_PKG_UNITDIR /lib/systemd/system)
set(SHOPD_PKG_CONFDIR /etc/shopd)
set(SHOPD_PKG_DOCDIR /usr/share/doc/shopd)

install(TARGETS shopd reservation-release
  RUNTIME DESTINATION ${SHOPD_PKG_BINDIR} COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL)
# shopctl: packaged as soon as its target exists. OPTIONAL so that the package of a tree where
# it does not build yet still has the rest; tests/package_test.sh requires it when the target
# exists (SHOPD_PKG_PROGRAMS).
set(SHOPD_PKG_PROGRAMS shopd reservation-release)
if(TARGET shopctl)
  list(APPEND SHOPD_PKG_PROGRAMS shopctl)
  install(TARGETS shopctl RUNTIME DESTINATION ${SHOPD_PKG_BINDIR}
    COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL OPTIONAL)
endif()
# The served builds only (not pricing_v2, pricing_badabi or the test plugins).
install(TARGETS catalog customers pricing cart checkout
  LIBRARY DESTINATION ${SHOPD_PKG_PLUGINDIR} COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL)

# scripts/migrate finds sql/ as ../sql from its own dir (scripts/lib.sh REPO), so both keep their
# repository layout under /usr/share/shopd.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sql/ DESTINATION ${SHOPD_PKG_DATADIR}/sql
  COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL FILES_MATCHING PATTERN "[0-9][0-9][0-9]_*.sql")
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/migrate DESTINATION ${SHOPD_PKG_DATADIR}/scripts
  COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/scripts/lib.sh DESTINATION ${SHOPD_PKG_DATADIR}/scripts
  COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/nginx/shopd.conf.template
  DESTINATION ${SHOPD_PKG_DATADIR}/nginx COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/shopd.service ${PROJECT_SOURCE_DIR}/systemd/shopd.socket
  ${PROJECT_SOURCE_DIR}/systemd/reservation-release.service
  ${PROJECT_SOURCE_DIR}/systemd/reservation-release.timer
  DESTINATION ${SHOPD_PKG_UNITDIR} COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL)
# Examples the operator edits: conffiles (packaging/conffiles), never overwritten silently by an
# upgrade. 0640 from the start; postinst gives them to group shopd.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/shopd.env
  ${PROJECT_SOURCE_DIR}/packaging/reservation-release.env
  DESTINATION ${SHOPD_PKG_CONFDIR}
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
  COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${SHOPD_PKG_DOCDIR}
  COMPONENT ${SHOPD_PKG_COMPONENT} EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME shopd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "shopd operators <ops@shopd.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "FastCGI commerce host with hot-swappable plugins")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
# Absolute install destinations are the point of this package.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_COMPONENTS_ALL ${SHOPD_PKG_COMPONENT})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_NAME shopd)
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps; postinst needs adduser.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nginx, postgresql-client")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "postgresql")
# The body under CPACK_PACKAGE_DESCRIPTION_SUMMARY; CPack indents it and turns "" into " .".
string(JOIN "\n" CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "shopd serves a commerce REST API (catalog, customers, pricing, cart, checkout) as FastCGI"
  "behind nginx, on PostgreSQL. Pricing plugins are hot-swapped on a running host."
  ""
  "Installing creates the system user and group shopd and example configuration in /etc/shopd."
  "The package neither migrates the database nor enables or starts any service: run"
  "/usr/share/shopd/scripts/migrate (or shopctl migrate) as the database owner, edit"
  "/etc/shopd/shopd.env, then systemctl enable --now shopd reservation-release.timer.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/postinst
  ${PROJECT_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
