"""Which executables a distribution package installs, and which packages install a command.

The tables are curated from the distributions' package file lists (Debian bookworm /
Ubuntu 22.04-24.04 for apt, Alpine 3.19-3.21 for apk, RHEL/Fedora 8-9 for yum/dnf,
openSUSE Leap 15 for zypper), as of 2026-11. A table entry lists the package's own
programs on PATH; ``DEPENDS`` names the packages it pulls in whose programs come along
(``python3-pip`` brings ``python3``). Library packages (``lib*``, ``*-dev`` and the like)
ship no programs on PATH, except the ``*-config`` scripts listed here.

:func:`commands_of_package` answers None for a package it does not know: the caller must
treat its commands as unknown, never as missing. The lookups go through
:class:`PackageIndex` objects, one per package manager, so a complete index (Debian's
``Contents-amd64``) can replace a curated table with :func:`set_index`.

apt lookups answer from the curated table for a package it lists, else from Debian
bookworm's Contents index (:mod:`analyzer.knowledge.debian_index`), else by the library
rule; :func:`packages_providing` lists the curated providers first, then the index's.
"""

from __future__ import annotations

import re
from typing import Optional, Protocol
from ..lazyre import lazy

__all__ = [
    "PackageIndex",
    "TableIndex",
    "commands_of_package",
    "own_commands_of_package",
    "packages_providing",
    "manager_for_family",
    "normalize_package",
    "set_index",
    "SOURCE",
    "AS_OF",
]

SOURCE = "curated from the distributions' package file lists"
AS_OF = "2026-11"

# ---------------------------------------------------------------------------------------
# apt (Debian bookworm / Ubuntu 22.04-24.04 names). A bare name is /usr/bin/NAME.

_APT = {
    "curl": "curl",
    "wget": "wget",
    "git": "git git-receive-pack git-shell git-upload-archive git-upload-pack",
    "git-lfs": "git-lfs",
    "subversion": "svn svnadmin svnlook svnserve svnsync svnversion svndumpfilter svnrdump",
    "mercurial": "hg",
    "sudo": "sudo sudoedit sudoreplay cvtsudoers /usr/sbin/visudo",
    "tini": "tini tini-static",
    "gosu": "/usr/sbin/gosu",
    "dumb-init": "dumb-init",
    "locales": "/usr/sbin/locale-gen /usr/sbin/update-locale /usr/sbin/validlocale",
    "locales-all": "",
    "tzdata": "",
    "ca-certificates": "/usr/sbin/update-ca-certificates",
    "openssl": "openssl c_rehash",
    "gnupg": "gpg gpg-agent gpgconf gpgsm gpg-connect-agent gpgtar dirmngr dirmngr-client kbxutil",
    "gnupg2": "",
    "gpg": "gpg",
    "gpg-agent": "gpg-agent",
    "dirmngr": "dirmngr dirmngr-client",
    "gnupg-agent": "",
    "apt-transport-https": "",
    "apt-utils": "apt-extracttemplates apt-ftparchive apt-sortpkgs",
    "software-properties-common": "add-apt-repository apt-add-repository",
    "lsb-release": "lsb_release",
    "debconf-utils": "debconf-get-selections debconf-getlang debconf-loadtemplate debconf-mergetemplate",
    "build-essential": "",
    "gcc": "gcc cc c89 c99 gcc-ar gcc-nm gcc-ranlib gcov",
    "g++": "g++ c++",
    "cpp": "cpp",
    "make": "make",
    "binutils": "ld ld.bfd ld.gold as ar nm objdump objcopy strip ranlib readelf size strings addr2line c++filt gprof elfedit",
    "dpkg-dev": "dpkg-architecture dpkg-buildpackage dpkg-source dpkg-genchanges dpkg-shlibdeps dpkg-gencontrol dpkg-parsechangelog dpkg-checkbuilddeps dpkg-buildflags dpkg-scanpackages",
    "patch": "patch",
    "libc6-dev": "",
    "clang": "clang clang++",
    "llvm": "llvm-config",
    "cmake": "cmake ctest cpack",
    "ninja-build": "ninja",
    "meson": "meson",
    "autoconf": "autoconf autoheader autoreconf autoscan autoupdate ifnames autom4te",
    "automake": "automake aclocal",
    "libtool": "libtool libtoolize",
    "libtool-bin": "libtool",
    "pkg-config": "pkg-config",
    "pkgconf": "pkg-config pkgconf",
    "gdb": "gdb",
    "strace": "strace",
    "valgrind": "valgrind",
    "ccache": "ccache",
    "python3": "python3 pydoc3 pygettext3",
    "python3-minimal": "python3",
    "python3-full": "",
    "python3-pip": "pip pip3",
    "python3-venv": "",
    "python3-dev": "python3-config",
    "python3-setuptools": "",
    "python3-wheel": "",
    "python-is-python3": "python pydoc",
    "python3-virtualenv": "",
    "virtualenv": "virtualenv",
    "pipx": "pipx",
    "python3-poetry": "",
    "python2": "python2 pydoc2",
    "python": "python",
    "cython3": "cython cython3 cythonize cythonize3 cygdb",
    "vim": "vim vim.basic vi view ex rvim rview vimdiff editor",
    "vim-tiny": "vim.tiny vi view ex rview editor",
    "vim-nox": "vim vim.nox vi view ex rvim rview vimdiff editor",
    "neovim": "nvim",
    "nano": "nano rnano editor pico",
    "nano-tiny": "nano-tiny",
    "emacs-nox": "emacs",
    "less": "less lessecho lesskey lesspipe lessfile",
    "file": "file",
    "tree": "tree",
    "jq": "jq",
    "yq": "yq",
    "xmlstarlet": "xmlstarlet",
    "unzip": "unzip funzip unzipsfx zipinfo zipgrep",
    "zip": "zip zipcloak zipnote zipsplit",
    "xz-utils": "xz unxz xzcat xzgrep xzegrep xzfgrep xzless xzmore xzdiff xzcmp lzma unlzma lzcat",
    "bzip2": "bzip2 bunzip2 bzcat bzip2recover bzgrep bzegrep bzfgrep bzdiff bzcmp bzmore bzless bzexe",
    "zstd": "zstd unzstd zstdcat zstdmt zstdgrep zstdless",
    "p7zip-full": "7z 7za",
    "pigz": "pigz unpigz",
    "rsync": "rsync",
    "openssh-client": "ssh scp sftp ssh-add ssh-agent ssh-keygen ssh-keyscan ssh-copy-id ssh-argv0 slogin",
    "openssh-server": "/usr/sbin/sshd",
    "netcat-openbsd": "nc nc.openbsd netcat",
    "netcat-traditional": "nc nc.traditional netcat",
    "netcat": "nc netcat",
    "ncat": "ncat",
    "socat": "socat",
    "telnet": "telnet",
    "iproute2": "ip ss bridge tc /usr/sbin/ip /usr/sbin/tc /usr/sbin/bridge /usr/sbin/ss",
    "iputils-ping": "ping ping4 ping6",
    "net-tools": "netstat /usr/sbin/ifconfig /usr/sbin/route /usr/sbin/arp /usr/sbin/ipmaddr /usr/sbin/iptunnel /usr/sbin/mii-tool /usr/sbin/nameif /usr/sbin/plipconfig /usr/sbin/rarp /usr/sbin/slattach",
    "dnsutils": "",
    "bind9-dnsutils": "dig nslookup nsupdate delv",
    "bind9-host": "host",
    "traceroute": "traceroute traceroute6 /usr/sbin/tcptraceroute",
    "iptables": "/usr/sbin/iptables /usr/sbin/ip6tables /usr/sbin/iptables-save /usr/sbin/iptables-restore",
    "tcpdump": "/usr/bin/tcpdump /usr/sbin/tcpdump",
    "nmap": "nmap",
    "procps": "ps top free kill pgrep pkill pmap pwdx skill slabtop snice tload uptime vmstat w watch pidwait /usr/sbin/sysctl",
    "psmisc": "killall fuser pstree peekfd prtstat pslog",
    "htop": "htop",
    "lsof": "lsof",
    "tmux": "tmux",
    "screen": "screen",
    "cron": "crontab /usr/sbin/cron",
    "supervisor": "supervisord supervisorctl echo_supervisord_conf pidproxy",
    "runit": "sv chpst runsv runsvdir svlogd",
    "gettext-base": "envsubst gettext ngettext gettext.sh",
    "gettext": "msgfmt msgmerge xgettext msginit msgunfmt msgcat msgconv",
    "moreutils": "sponge ts vipe chronic parallel pee errno ifdata ifne isutf8 lckdo mispipe combine zrun",
    "parallel": "parallel sem",
    "bc": "bc",
    "dc": "dc",
    "gawk": "gawk awk",
    "time": "time",
    "sqlite3": "sqlite3",
    "postgresql-client": "psql pg_dump pg_dumpall pg_restore pg_isready createdb dropdb createuser dropuser clusterdb reindexdb vacuumdb pg_basebackup",
    "postgresql": "pg_ctlcluster pg_createcluster pg_dropcluster pg_lsclusters pg_upgradecluster",
    "mariadb-client": "mariadb mysql mariadb-dump mysqldump mariadb-admin mysqladmin mariadb-check mysqlcheck mariadb-import mysqlimport mariadb-show mysqlshow",
    "default-mysql-client": "",
    "mysql-client": "mysql mysqldump mysqladmin mysqlcheck mysqlimport mysqlshow",
    "mariadb-server": "/usr/sbin/mariadbd /usr/sbin/mysqld mariadb-install-db mysql_install_db",
    "redis-tools": "redis-cli redis-benchmark redis-check-aof redis-check-rdb",
    "redis-server": "redis-server",
    "mongodb-clients": "mongo",
    "nginx": "/usr/sbin/nginx",
    "nginx-light": "/usr/sbin/nginx",
    "apache2": "/usr/sbin/apache2 /usr/sbin/apache2ctl /usr/sbin/apachectl /usr/sbin/a2enmod /usr/sbin/a2dismod /usr/sbin/a2ensite /usr/sbin/a2dissite /usr/sbin/a2enconf /usr/sbin/a2disconf",
    "apache2-utils": "ab htpasswd htdigest logresolve rotatelogs",
    "php": "",
    "php-cli": "php",
    "php-fpm": "",
    "composer": "composer",
    "perl": "cpan perldoc prove pod2man pod2text pod2usage podchecker json_pp shasum ptar ptardiff ptargrep h2xs instmodsh corelist enc2xs piconv xsubpp zipdetails",
    "cpanminus": "cpanm",
    "libimage-exiftool-perl": "exiftool",
    "nodejs": "node nodejs",
    "npm": "npm npx",
    "yarnpkg": "yarnpkg",
    "default-jdk": "",
    "default-jdk-headless": "javac jar jarsigner javadoc jshell jdb jcmd jps jstack jmap jstat jlink jdeps",
    "default-jre": "",
    "default-jre-headless": "java keytool rmiregistry",
    "maven": "mvn mvnDebug",
    "gradle": "gradle",
    "ant": "ant",
    "golang-go": "go gofmt",
    "golang": "",
    "rustc": "rustc rust-gdb rust-lldb",
    "cargo": "cargo",
    "ruby": "ruby erb gem irb rdoc ri bundle bundler rake",
    "ruby-full": "",
    "ruby-dev": "",
    "bundler": "bundle bundler",
    "rake": "rake",
    "r-base": "",
    "r-base-core": "R Rscript",
    "r-base-dev": "",
    "julia": "julia",
    "lua5.4": "lua5.4 luac5.4",
    "ffmpeg": "ffmpeg ffprobe ffplay",
    "imagemagick": "convert identify mogrify composite montage compare display import animate conjure stream",
    "graphicsmagick": "gm",
    "ghostscript": "gs gsnd gsbj gsdj gslp",
    "poppler-utils": "pdftotext pdfinfo pdftoppm pdfimages pdfunite pdfseparate pdftohtml pdftocairo pdffonts pdfattach pdfdetach pdfsig pdftops",
    "qpdf": "qpdf fix-qdf zlib-flate",
    "graphviz": "dot neato circo fdp sfdp twopi osage patchwork gvpr",
    "pandoc": "pandoc",
    "dvipng": "dvipng dvigif",
    "texlive-latex-base": "latex pdflatex tex etex pdftex lualatex luatex",
    "texlive-xetex": "xetex xelatex",
    "tesseract-ocr": "tesseract",
    "sox": "sox play rec soxi",
    "libreoffice": "libreoffice soffice",
    "chromium": "chromium",
    "chromium-driver": "chromedriver",
    "firefox-esr": "firefox-esr",
    "xvfb": "Xvfb xvfb-run",
    "xclip": "xclip xclip-copyfile xclip-cutfile xclip-pastefile",
    "run-one": "run-one run-one-constantly run-one-until-success run-one-until-failure run-this-one keep-one-running",
    "docker.io": "docker dockerd /usr/sbin/docker-init",
    "docker-ce": "dockerd /usr/bin/docker-proxy",
    "docker-ce-cli": "docker",
    "containerd.io": "containerd containerd-shim-runc-v2 ctr runc",
    "podman": "podman",
    "kubectl": "kubectl",
    "awscli": "aws aws_completer",
    "ansible": "ansible ansible-playbook ansible-galaxy ansible-vault ansible-config ansible-console ansible-doc ansible-inventory ansible-pull",
    "jupyter-notebook": "jupyter-notebook",
    "shellcheck": "shellcheck",
    "ripgrep": "rg",
    "fd-find": "fdfind",
    "fzf": "fzf",
    "bat": "batcat",
    "entr": "entr",
    "inotify-tools": "inotifywait inotifywatch",
    "uuid-runtime": "uuidgen /usr/sbin/uuidd",
    "dos2unix": "dos2unix unix2dos mac2unix unix2mac",
    "expect": "expect",
    "bsdextrautils": "col colcrt colrm column hd hexdump look ul write",
    "bsdmainutils": "ncal cal calendar",
    "util-linux": "",
    "passwd": "",
    "adduser": "/usr/sbin/adduser /usr/sbin/addgroup /usr/sbin/deluser /usr/sbin/delgroup",
    "xxd": "xxd",
    "libcap2-bin": "/usr/sbin/setcap /usr/sbin/getcap /usr/sbin/capsh /usr/sbin/getpcaps",
    "acl": "getfacl setfacl chacl",
    "attr": "attr getfattr setfattr",
    "fontconfig": "fc-cache fc-list fc-match fc-query fc-scan fc-cat fc-pattern fc-validate fc-conflist",
    "dbus": "dbus-daemon dbus-send dbus-uuidgen",
    "systemd": "systemctl journalctl /usr/bin/systemd-tmpfiles",
    "openvpn": "/usr/sbin/openvpn",
    "wireguard-tools": "wg wg-quick",
    "hostname": "hostname",
    # -dev packages that do ship a program on PATH
    "libpq-dev": "pg_config",
    "libxml2-dev": "xml2-config",
    "libxslt1-dev": "xslt-config",
    "libcurl4-openssl-dev": "curl-config",
    "libcurl4-gnutls-dev": "curl-config",
    "libpng-dev": "libpng-config libpng16-config",
    "libmariadb-dev": "mariadb_config",
    "libmariadb-dev-compat": "mysql_config",
    "default-libmysqlclient-dev": "",
    "libmysqlclient-dev": "mysql_config",
    "libgdal-dev": "gdal-config",
    "libgeos-dev": "geos-config",
    "libfreetype-dev": "freetype-config",
    "libfreetype6-dev": "",
    "libgpgme-dev": "gpgme-config",
    "libglib2.0-dev": "gdbus-codegen glib-compile-resources glib-compile-schemas glib-genmarshal glib-mkenums",
    "libgtk-3-dev": "",
    "libmagickwand-dev": "",
    "libncurses-dev": "ncursesw6-config ncurses6-config",
}

_APT_DEPENDS = {
    "python3-pip": ("python3",),
    "python3-venv": ("python3",),
    "python3-dev": ("python3",),
    "python3-full": ("python3", "python3-venv"),
    "python3-minimal": (),
    "python-is-python3": ("python3",),
    "virtualenv": ("python3",),
    "pipx": ("python3",),
    "cython3": ("python3",),
    "git": ("perl",),
    "git-lfs": ("git",),
    "gnupg2": ("gnupg",),
    "gnupg": ("dirmngr", "gpg", "gpg-agent"),
    "gnupg-agent": ("gpg-agent",),
    "ca-certificates": ("openssl",),
    "build-essential": ("gcc", "g++", "make", "dpkg-dev"),
    "gcc": ("cpp", "binutils"),
    "g++": ("gcc",),
    "dpkg-dev": ("binutils", "patch", "make", "xz-utils", "bzip2"),
    "clang": ("binutils",),
    "libtool-bin": (),
    "autoconf": ("perl",),
    "automake": ("autoconf",),
    "software-properties-common": ("python3",),
    "npm": ("nodejs",),
    "default-jdk": ("default-jdk-headless", "default-jre"),
    "default-jdk-headless": ("default-jre-headless",),
    "default-jre": ("default-jre-headless",),
    "maven": ("default-jre-headless",),
    "gradle": ("default-jre-headless",),
    "ant": ("default-jre-headless",),
    "golang": ("golang-go",),
    "cargo": ("rustc",),
    "ruby-full": ("ruby", "ruby-dev"),
    "ruby-dev": ("ruby",),
    "r-base": ("r-base-core",),
    "r-base-dev": ("r-base-core", "build-essential"),
    "php": ("php-cli",),
    "php-fpm": ("php-cli",),
    "composer": ("php-cli",),
    "postgresql": ("postgresql-client",),
    "mariadb-server": ("mariadb-client",),
    "default-mysql-client": ("mariadb-client",),
    "redis-server": ("redis-tools",),
    "openssh-server": ("openssh-client",),
    "dnsutils": ("bind9-dnsutils",),
    "bind9-dnsutils": ("bind9-host",),
    "supervisor": ("python3",),
    "gettext": ("gettext-base",),
    "imagemagick": (),
    "texlive-xetex": ("texlive-latex-base",),
    "docker-ce": ("docker-ce-cli", "containerd.io"),
    "awscli": ("python3",),
    "ansible": ("python3",),
    "jupyter-notebook": ("python3",),
    "xvfb": (),
    "perl": (),
    "cpanminus": ("perl",),
    "default-libmysqlclient-dev": ("libmariadb-dev-compat",),
    "libmariadb-dev-compat": ("libmariadb-dev",),
    "libfreetype6-dev": ("libfreetype-dev",),
    "locales-all": (),
}

# ---------------------------------------------------------------------------------------
# apk (Alpine). A bare name is /usr/bin/NAME.

_APK = {
    "bash": "/bin/bash",
    "zsh": "/bin/zsh",
    "curl": "curl",
    "wget": "wget",
    "git": "git git-receive-pack git-shell git-upload-archive git-upload-pack",
    "git-lfs": "git-lfs",
    "openssh-client": "ssh scp sftp ssh-add ssh-agent ssh-keygen ssh-keyscan ssh-copy-id",
    "openssh-client-default": "ssh scp sftp ssh-add ssh-agent ssh-keygen ssh-keyscan",
    "openssh": "/usr/sbin/sshd",
    "ca-certificates": "/usr/sbin/update-ca-certificates",
    "openssl": "openssl",
    "tini": "/sbin/tini",
    "tini-static": "/sbin/tini-static",
    "su-exec": "/sbin/su-exec",
    "dumb-init": "dumb-init",
    "sudo": "sudo sudoedit sudoreplay /usr/sbin/visudo",
    "doas": "doas",
    "shadow": "/usr/sbin/useradd /usr/sbin/userdel /usr/sbin/usermod /usr/sbin/groupadd /usr/sbin/groupdel /usr/sbin/groupmod chage gpasswd newgrp /usr/sbin/chpasswd",
    "python3": "python3 pydoc3",
    "py3-pip": "pip pip3",
    "py3-virtualenv": "virtualenv",
    "python3-dev": "python3-config",
    "nodejs": "node",
    "nodejs-current": "node",
    "npm": "npm npx",
    "yarn": "yarn yarnpkg",
    "build-base": "",
    "gcc": "gcc cc c89 c99 cpp gcc-ar gcc-nm gcc-ranlib gcov",
    "g++": "g++ c++",
    "make": "make",
    "cmake": "cmake ctest cpack",
    "samurai": "samu ninja",
    "binutils": "ld ld.bfd as ar nm objdump objcopy strip ranlib readelf size strings addr2line c++filt",
    "musl-dev": "",
    "libc-dev": "",
    "linux-headers": "",
    "pkgconf": "pkg-config pkgconf",
    "autoconf": "autoconf autoheader autoreconf autoscan autoupdate ifnames autom4te",
    "automake": "automake aclocal",
    "libtool": "libtool libtoolize",
    "patch": "patch",
    "coreutils": "",
    "findutils": "",
    "grep": "/bin/grep",
    "sed": "/bin/sed",
    "gawk": "gawk",
    "tar": "/bin/tar",
    "gzip": "/bin/gzip /bin/gunzip /bin/zcat",
    "xz": "xz unxz xzcat lzma unlzma lzcat",
    "bzip2": "bzip2 bunzip2 bzcat",
    "zstd": "zstd unzstd zstdcat",
    "unzip": "unzip",
    "zip": "zip",
    "jq": "jq",
    "yq": "yq",
    "vim": "vim vimdiff xxd",
    "nano": "nano",
    "less": "less",
    "file": "file",
    "tree": "tree",
    "rsync": "rsync",
    "procps": "/bin/ps top free pgrep pkill pmap pwdx slabtop uptime vmstat w watch /sbin/sysctl",
    "procps-ng": "/bin/ps top free pgrep pkill pmap pwdx slabtop uptime vmstat w watch /sbin/sysctl",
    "psmisc": "killall fuser pstree",
    "htop": "htop",
    "bind-tools": "dig nslookup host nsupdate delv",
    "iproute2": "/sbin/ip ss /sbin/tc /sbin/bridge",
    "iputils": "/bin/ping",
    "net-tools": "/bin/netstat /sbin/ifconfig /sbin/route /sbin/arp",
    "busybox-extras": "telnet ftpget ftpput httpd",
    "netcat-openbsd": "nc",
    "socat": "socat",
    "gnupg": "gpg gpg-agent gpgconf gpgsm dirmngr",
    "gpg": "gpg",
    "tzdata": "",
    "libc6-compat": "",
    "gcompat": "",
    "postgresql-client": "psql pg_dump pg_dumpall pg_restore pg_isready createdb dropdb createuser dropuser",
    "postgresql15-client": "psql pg_dump pg_dumpall pg_restore pg_isready createdb dropdb createuser dropuser",
    "postgresql16-client": "psql pg_dump pg_dumpall pg_restore pg_isready createdb dropdb createuser dropuser",
    "mariadb-client": "mariadb mysql mariadb-dump mysqldump mariadb-admin mysqladmin",
    "mysql-client": "mysql mysqldump mysqladmin",
    "redis": "redis-server redis-cli redis-benchmark",
    "sqlite": "sqlite3",
    "go": "go gofmt",
    "rust": "rustc",
    "cargo": "cargo",
    "ruby": "ruby",
    "ruby-bundler": "bundle bundler",
    "perl": "perl cpan perldoc prove",
    "php82": "php82",
    "php83": "php83",
    "openjdk17-jre-headless": "",
    "openjdk17": "",
    "openjdk21": "",
    "maven": "mvn",
    "ffmpeg": "ffmpeg ffprobe",
    "imagemagick": "magick convert identify mogrify composite montage compare",
    "ghostscript": "gs",
    "graphviz": "dot neato circo fdp sfdp twopi",
    "chromium": "chromium-browser chromium",
    "chromium-chromedriver": "chromedriver",
    "nginx": "/usr/sbin/nginx",
    "supervisor": "supervisord supervisorctl echo_supervisord_conf pidproxy",
    "docker-cli": "docker",
    "docker": "docker dockerd",
    "kubectl": "kubectl",
    "aws-cli": "aws aws_completer",
    "gettext": "envsubst gettext ngettext msgfmt xgettext msgmerge",
    "gettext-envsubst": "envsubst",
    "util-linux": "",
    "libcap": "/usr/sbin/setcap /usr/sbin/getcap /usr/sbin/capsh",
    "libcap-utils": "/usr/sbin/setcap /usr/sbin/getcap /usr/sbin/capsh",
    "shellcheck": "shellcheck",
    "ripgrep": "rg",
    "fd": "fd",
    "fzf": "fzf",
    "tmux": "tmux",
    "screen": "screen",
    "bc": "bc",
    "expect": "expect",
    "dos2unix": "dos2unix unix2dos",
    "inotify-tools": "inotifywait inotifywatch",
    "postgresql-dev": "pg_config",
    "libpq-dev": "pg_config",
    "libxml2-dev": "xml2-config",
    "curl-dev": "curl-config",
    "mariadb-dev": "mariadb_config mysql_config",
}

_APK_DEPENDS = {
    "py3-pip": ("python3",),
    "py3-virtualenv": ("python3",),
    "python3-dev": ("python3",),
    "npm": ("nodejs",),
    "yarn": ("nodejs",),
    "build-base": ("gcc", "g++", "make", "binutils", "musl-dev", "patch"),
    "gcc": ("binutils",),
    "g++": ("gcc",),
    "git": (),
    "git-lfs": ("git",),
    "cargo": ("rust",),
    "ruby-bundler": ("ruby",),
    "maven": (),
    "automake": ("autoconf",),
    "ca-certificates": (),
    "openssh": ("openssh-client",),
    "openssh-client": ("openssh-client-default",),
    "docker": ("docker-cli",),
    "aws-cli": ("python3",),
    "supervisor": ("python3",),
    "postgresql-dev": (),
}

# ---------------------------------------------------------------------------------------
# rpm: yum / dnf / microdnf (RHEL, CentOS, Rocky, Alma, Fedora, Amazon Linux names)

_RPM = {
    "curl": "curl",
    "curl-minimal": "curl",
    "wget": "wget",
    "git": "git git-receive-pack git-shell git-upload-archive git-upload-pack",
    "git-core": "git git-receive-pack git-shell git-upload-archive git-upload-pack",
    "sudo": "sudo sudoedit sudoreplay /usr/sbin/visudo",
    "which": "which",
    "procps-ng": "ps top free kill pgrep pkill pmap pwdx skill slabtop snice tload uptime vmstat w watch /usr/sbin/sysctl",
    "psmisc": "killall fuser pstree",
    "shadow-utils": "/usr/sbin/useradd /usr/sbin/userdel /usr/sbin/usermod /usr/sbin/groupadd /usr/sbin/groupdel /usr/sbin/groupmod chage gpasswd newgrp /usr/sbin/chpasswd",
    "tar": "tar",
    "gzip": "gzip gunzip zcat",
    "xz": "xz unxz xzcat lzma unlzma lzcat",
    "bzip2": "bzip2 bunzip2 bzcat",
    "unzip": "unzip zipinfo",
    "zip": "zip",
    "findutils": "find xargs",
    "diffutils": "diff cmp diff3 sdiff",
    "hostname": "hostname",
    "iproute": "ip ss bridge tc /usr/sbin/ip /usr/sbin/tc /usr/sbin/ss",
    "iputils": "ping",
    "net-tools": "netstat /usr/sbin/ifconfig /usr/sbin/route /usr/sbin/arp",
    "bind-utils": "dig nslookup host nsupdate",
    "nmap-ncat": "nc ncat",
    "openssh-clients": "ssh scp sftp ssh-add ssh-agent ssh-keygen ssh-keyscan ssh-copy-id",
    "openssh-server": "/usr/sbin/sshd",
    "python3": "python3 pydoc3",
    "python3-pip": "pip3 pip",
    "python3-devel": "python3-config",
    "python39": "python3.9",
    "python3.11": "python3.11",
    "python3.12": "python3.12",
    "gcc": "gcc cc c89 c99 cpp gcov",
    "gcc-c++": "g++ c++",
    "make": "make gmake",
    "cmake": "cmake ctest cpack",
    "binutils": "ld as ar nm objdump objcopy strip ranlib readelf size strings",
    "java-17-openjdk-headless": "",
    "java-17-openjdk": "",
    "java-17-openjdk-devel": "",
    "java-21-openjdk-headless": "",
    "java-11-openjdk-headless": "",
    "maven": "mvn",
    "nodejs": "node",
    "npm": "npm npx",
    "golang": "go gofmt",
    "rust": "rustc",
    "cargo": "cargo",
    "ruby": "ruby",
    "rubygems": "gem",
    "perl": "perl",
    "jq": "jq",
    "vim-minimal": "vi",
    "vim-enhanced": "vim vimdiff",
    "nano": "nano",
    "less": "less",
    "file": "file",
    "tree": "tree",
    "rsync": "rsync",
    "openssl": "openssl",
    "ca-certificates": "update-ca-trust",
    "gnupg2": "gpg gpg2 gpg-agent gpgconf dirmngr",
    "util-linux": "",
    "epel-release": "",
    "dnf-plugins-core": "",
    "yum-utils": "yum-config-manager repoquery yumdownloader",
    "glibc-langpack-en": "",
    "postgresql": "psql pg_dump pg_dumpall pg_restore createdb dropdb",
    "mysql": "mysql mysqldump mysqladmin",
    "mariadb": "mysql mariadb mysqldump mysqladmin",
    "redis": "redis-server redis-cli",
    "sqlite": "sqlite3",
    "httpd": "/usr/sbin/httpd /usr/sbin/apachectl",
    "nginx": "/usr/sbin/nginx",
    "tini": "tini",
    "patch": "patch",
    "gettext": "envsubst gettext msgfmt xgettext",
    "lsof": "lsof",
    "strace": "strace",
    "jq-devel": "",
}

_RPM_DEPENDS = {
    "python3-pip": ("python3",),
    "python3-devel": ("python3",),
    "gcc": ("binutils",),
    "gcc-c++": ("gcc",),
    "cargo": ("rust",),
    "rubygems": ("ruby",),
    "npm": ("nodejs",),
}

# ---------------------------------------------------------------------------------------
# zypper (openSUSE / SLES)

_ZYPPER = {
    "curl": "curl",
    "wget": "wget",
    "git": "git",
    "git-core": "git",
    "sudo": "sudo /usr/sbin/visudo",
    "which": "which",
    "procps": "ps top free kill pgrep pkill pmap pwdx uptime vmstat w watch /usr/sbin/sysctl",
    "shadow": "/usr/sbin/useradd /usr/sbin/userdel /usr/sbin/usermod /usr/sbin/groupadd /usr/sbin/groupdel /usr/sbin/groupmod",
    "tar": "tar",
    "gzip": "gzip gunzip zcat",
    "xz": "xz unxz xzcat",
    "unzip": "unzip",
    "zip": "zip",
    "iproute2": "ip ss /usr/sbin/ip",
    "iputils": "ping",
    "openssh-clients": "ssh scp sftp ssh-keygen ssh-add ssh-agent ssh-keyscan",
    "python3": "python3",
    "python3-pip": "pip3",
    "python311": "python3.11",
    "gcc": "gcc cc cpp",
    "gcc-c++": "g++ c++",
    "make": "make gmake",
    "cmake": "cmake ctest cpack",
    "jq": "jq",
    "vim": "vim vi",
    "nano": "nano",
    "less": "less",
    "file": "file",
    "rsync": "rsync",
    "openssl": "openssl",
    "ca-certificates": "/usr/sbin/update-ca-certificates",
    "gpg2": "gpg gpg2",
    "java-17-openjdk-headless": "",
    "nodejs20": "node",
    "npm20": "npm npx",
    "go": "go gofmt",
    "ruby": "ruby",
}

_ZYPPER_DEPENDS = {
    "python3-pip": ("python3",),
    "gcc-c++": ("gcc",),
    "npm20": ("nodejs20",),
}


# ---------------------------------------------------------------------------------------
# index machinery


class PackageIndex(Protocol):
    """What one package manager's packages contain."""

    def own_commands(self, package: str) -> Optional[tuple[str, ...]]:
        """Full paths of the package's own programs; None if the package is unknown."""

    def depends(self, package: str) -> tuple[str, ...]:
        """Packages pulled in whose programs come along."""

    def providers(self, command: str) -> list[str]:
        """Packages whose own programs include ``command`` (a basename), best first."""


_LIBRARY = lazy(
    r"^(lib[a-z0-9].*|.*-(dev|devel|doc|docs|data|common|locale|l10n|headers)|fonts-.*|.*-fonts?|.*-dbg|.*-dbgsym)$"
)
# lib*-bin / -utils / -tools / -progs ship programs; lib*-perl are Perl modules (some with
# scripts); libreoffice-* and libtool are not libraries
_NOT_LIBRARY = lazy(r"^(lib.*-(bin|utils|tools|progs|perl)|libreoffice.*|libtool.*)$")


def _paths(spec: str, bindir: str) -> tuple[str, ...]:
    return tuple(w if w.startswith("/") else f"{bindir}/{w}" for w in spec.split())


class TableIndex:
    """A curated table: package -> programs, plus the packages each pulls in."""

    def __init__(self, table: dict, depends: dict, *, bindir: str = "/usr/bin",
                 library_rule: bool = True, preferred: Optional[dict] = None):
        self._table = table
        self._depends = depends
        self._bindir = bindir
        self._library_rule = library_rule
        self._preferred = preferred or {}
        self._reverse: Optional[dict] = None

    def own_commands(self, package: str) -> Optional[tuple[str, ...]]:
        spec = self._table.get(package)
        if spec is not None:
            return _paths(spec, self._bindir)
        if self._library_rule and _LIBRARY.match(package) and not _NOT_LIBRARY.match(package):
            return ()
        return None

    def knows(self, package: str) -> bool:
        """Whether the table lists ``package`` itself (not just by the library rule)."""
        return package in self._table

    def depends(self, package: str) -> tuple[str, ...]:
        return tuple(self._depends.get(package, ()))

    def providers(self, command: str) -> list[str]:
        if self._reverse is None:
            reverse: dict = {}
            for pkg, spec in self._table.items():
                for path in _paths(spec, self._bindir):
                    reverse.setdefault(path.rsplit("/", 1)[-1], []).append(pkg)
            self._reverse = reverse
        found = list(self._reverse.get(command, ()))
        preferred = self._preferred.get(command)

        def rank(pkg: str) -> tuple:
            return (
                pkg != preferred,
                pkg != command,
                len((self._table.get(pkg) or "").split()),
                pkg,
            )

        return sorted(found, key=rank)


_APT_PREFERRED = {
    "nc": "netcat-openbsd", "netcat": "netcat-openbsd", "java": "default-jre-headless",
    "javac": "default-jdk-headless", "vi": "vim-tiny", "vim": "vim", "editor": "vim-tiny",
    "ping": "iputils-ping", "ps": "procps", "gpg": "gpg", "node": "nodejs", "python": "python-is-python3",
    "pip": "python3-pip", "pip3": "python3-pip", "mysql": "default-mysql-client", "go": "golang-go",
    "ip": "iproute2", "dig": "bind9-dnsutils", "nslookup": "bind9-dnsutils", "awk": "gawk",
    "docker": "docker.io", "ruby": "ruby", "gem": "ruby", "bundle": "bundler",
}
_APK_PREFERRED = {"pip": "py3-pip", "pip3": "py3-pip", "node": "nodejs", "ps": "procps-ng", "ssh": "openssh-client"}
_RPM_PREFERRED = {"git": "git", "curl": "curl", "nc": "nmap-ncat", "pip3": "python3-pip"}

_INDEXES: dict = {}
_FACTORIES = {
    "apt": lambda: _apt_index(),
    "apk": lambda: TableIndex(_APK, _APK_DEPENDS, preferred=_APK_PREFERRED),
    "rpm": lambda: TableIndex(_RPM, _RPM_DEPENDS, preferred=_RPM_PREFERRED),
    "zypper": lambda: TableIndex(_ZYPPER, _ZYPPER_DEPENDS),
}
_MANAGER_ALIASES = {
    "apt": "apt", "apt-get": "apt", "aptitude": "apt", "dpkg": "apt",
    "apk": "apk",
    "yum": "rpm", "dnf": "rpm", "microdnf": "rpm", "tdnf": "rpm", "rpm": "rpm",
    "zypper": "zypper",
}
_FAMILY_MANAGER = {
    "debian": "apt", "ubuntu": "apt", "alpine": "apk", "rhel": "dnf", "fedora": "dnf",
    "centos": "yum", "amazon": "yum", "suse": "zypper", "opensuse": "zypper",
}


def _apt_index() -> PackageIndex:
    # curated table first (alternatives links, metapackages, what a package pulls in),
    # then Debian's own Contents index (bookworm) for every package the table does not list
    from .debian_index import DebianAptIndex

    return DebianAptIndex(TableIndex(_APT, _APT_DEPENDS, preferred=_APT_PREFERRED))


def _index(manager: str) -> Optional[PackageIndex]:
    key = _MANAGER_ALIASES.get(manager)
    if key is None:
        return None
    index = _INDEXES.get(key)
    if index is None:
        index = _INDEXES[key] = _FACTORIES[key]()
    return index


def set_index(manager: str, index: Optional[PackageIndex]) -> None:
    """Use ``index`` for ``manager`` (and the managers sharing its packages); None restores
    the curated table."""
    key = _MANAGER_ALIASES[manager]
    if index is None:
        _INDEXES.pop(key, None)
    else:
        _INDEXES[key] = index


def manager_for_family(family: Optional[str]) -> Optional[str]:
    return _FAMILY_MANAGER.get(family or "")


_APT_SPEC = lazy(r"^([a-z0-9][a-z0-9+.\-]*)(?::[a-z0-9\-]+)?(?:[=/].*)?$")
_APK_SPEC = lazy(r"^([a-zA-Z0-9][a-zA-Z0-9+._\-]*?)(?:[=<>~].*)?(?:@[a-z0-9]+)?$")
_RPM_SPEC = lazy(r"^([a-zA-Z0-9][a-zA-Z0-9+._\-]*?)(?:\.(?:x86_64|aarch64|noarch|i686))?$")


def normalize_package(manager: str, spec: str) -> Optional[str]:
    """The package name in an install argument (``curl=7.88.1-10`` -> ``curl``), or None
    when the argument is not a plain package name (a file, a URL, a variable)."""
    spec = spec.strip()
    if not spec or "$" in spec or "`" in spec or spec.startswith(("-", ".", "/", "~")) or "://" in spec:
        return None
    key = _MANAGER_ALIASES.get(manager)
    if key == "apt":
        m = _APT_SPEC.match(spec)
        return m.group(1) if m else None
    if key == "apk":
        m = _APK_SPEC.match(spec)
        return m.group(1) if m else None
    if key in ("rpm", "zypper"):
        if any(c in spec for c in "<>=*?[]"):
            head = re.split(r"\s*[<>=]", spec, 1)[0]
            return head if head and not any(c in head for c in "*?[]") else None
        m = _RPM_SPEC.match(spec)
        return m.group(1) if m else None
    return None


def own_commands_of_package(manager: str, package: str) -> Optional[tuple[str, ...]]:
    """Full paths of the package's own programs (not those of what it pulls in)."""
    index = _index(manager)
    if index is None:
        return None
    return index.own_commands(package)


def commands_of_package(manager: str, package: str) -> Optional[tuple[str, ...]]:
    """Full paths of the programs on PATH after installing ``package`` with ``manager``
    (``apt``/``apt-get``, ``apk``, ``yum``/``dnf``/``microdnf``, ``zypper``): its own and
    those of the packages it pulls in. None if the package is not known."""
    index = _index(manager)
    if index is None:
        return None
    key = (id(index), getattr(index, "release", None), package)  # the Debian index answers per release
    known = _CLOSURES.get(key)
    if known is not None and known[0] is index:
        return known[1]
    own = index.own_commands(package)
    if own is None:
        return None
    out = list(own)
    placed = set(out)
    seen = {package}
    queue = list(index.depends(package))
    while queue:
        dep = queue.pop(0)
        if dep in seen:
            continue
        seen.add(dep)
        dep_cmds = index.own_commands(dep)
        if dep_cmds:
            for p in dep_cmds:
                if p not in placed:
                    placed.add(p)
                    out.append(p)
        queue.extend(index.depends(dep))
    result = tuple(out)
    if len(_CLOSURES) >= _MAX_CLOSURES:
        _CLOSURES.clear()
    _CLOSURES[key] = (index, result)
    return result


# (id(index), release, package) -> (index, programs): a batch installs the same packages
# again and again, and an index never changes once built (set_index installs a new object)
_CLOSURES: dict = {}
_MAX_CLOSURES = 20_000


def packages_providing(command: str, family: Optional[str]) -> list[str]:
    """Packages of ``family`` (debian, ubuntu, alpine, rhel, suse...) that install
    ``command`` (a name or a path), best first."""
    manager = manager_for_family(family) or "apt"
    index = _index(manager)
    if index is None:
        return []
    return index.providers(command.rsplit("/", 1)[-1])
