"""Executables of root images, as data (names per directory).

Debian: read off real roots built with ``debootstrap --variant=minbase SUITE DIR
http://deb.debian.org/debian`` on 2026-11-26 (the variant debuerreotype builds the
``debian`` images from; ``-slim`` removes documentation, not programs). Every regular file
with an execute bit in /usr/bin and /usr/sbin, symlinks resolved. These roots are merged-/usr:
/bin and /sbin are links to /usr/bin and /usr/sbin, so every name is also reachable there.
"""

DEBIAN_BOOKWORM = {
    "/usr/bin": (
        "[ addpart apt apt-cache apt-cdrom apt-config apt-get apt-key apt-mark arch awk b2sum base32 "
        "base64 basename basenc bash bashbug captoinfo cat chage chattr chcon chfn chgrp chmod choom "
        "chown chrt chsh cksum clear clear_console cmp comm cp csplit cut dash date dd "
        "deb-systemd-helper deb-systemd-invoke debconf debconf-apt-progress debconf-communicate "
        "debconf-copydb debconf-escape debconf-set-selections debconf-show delpart df diff diff3 dir "
        "dircolors dirname dmesg dnsdomainname domainname dpkg dpkg-deb dpkg-divert "
        "dpkg-maintscript-helper dpkg-query dpkg-realpath dpkg-split dpkg-statoverride dpkg-trigger "
        "du echo egrep env expand expiry expr factor faillog fallocate false fgrep fincore find "
        "findmnt flock fmt fold getconf getent getopt gpasswd gpgv grep groups gunzip gzexe gzip "
        "hardlink head hostid hostname i386 iconv id infocmp infotocap install ionice ipcmk ipcrm "
        "ipcs ischroot join last lastb lastlog ld.so ldd link linux32 linux64 ln locale localedef "
        "logger login logname ls lsattr lsblk lscpu lsfd lsipc lsirq lslocks lslogins lsmem lsns mawk "
        "mcookie md5sum md5sum.textutils mesg mkdir mkfifo mknod mktemp more mount mountpoint mv "
        "namei nawk newgrp nice nisdomainname nl nohup nproc nsenter numfmt od pager partx passwd "
        "paste pathchk perl perl5.36.0 pidof pinky pldd pr printenv printf prlimit ptx pwd rbash "
        "readlink realpath rename.ul renice reset resizepart rev rgrep rm rmdir run-parts runcon "
        "savelog script scriptlive scriptreplay sdiff sed seq setarch setpriv setsid setterm sg sh "
        "sha1sum sha224sum sha256sum sha384sum sha512sum shred shuf sleep sort split stat stdbuf stty "
        "su sum sync tabs tac tail tar taskset tee tempfile test tic timeout toe touch tput tr true "
        "truncate tset tsort tty tzselect uclampset umount uname uncompress unexpand uniq unlink "
        "unshare update-alternatives users utmpdump vdir wall wc wdctl whereis which "
        "which.debianutils who whoami x86_64 xargs yes ypdomainname zcat zcmp zdiff zdump zegrep "
        "zfgrep zforce zgrep zless zmore znew "
    ),
    "/usr/sbin": (
        "add-shell addgroup adduser agetty badblocks blkdiscard blkid blkzone blockdev chcpu "
        "chgpasswd chmem chpasswd chroot cpgr cppw ctrlaltdel debugfs delgroup deluser "
        "dpkg-fsys-usrunmess dpkg-preconfigure dpkg-reconfigure dumpe2fs e2freefrag e2fsck e2image "
        "e2label e2mmpstatus e2scrub e2scrub_all e2undo e4crypt e4defrag faillock filefrag findfs "
        "fsck fsck.cramfs fsck.ext2 fsck.ext3 fsck.ext4 fsck.minix fsfreeze fstab-decode fstrim getty "
        "groupadd groupdel groupmems groupmod grpck grpconv grpunconv hwclock iconvconfig "
        "installkernel invoke-rc.d isosize killall5 ldattach ldconfig logsave losetup mke2fs mkfs "
        "mkfs.bfs mkfs.cramfs mkfs.ext2 mkfs.ext3 mkfs.ext4 mkfs.minix mkhomedir_helper mklost+found "
        "mkswap newusers nologin pam-auth-update pam_getenv pam_namespace_helper pam_timestamp_check "
        "pivot_root pwck pwconv pwhistory_helper pwunconv readprofile remove-shell resize2fs rmt "
        "rmt-tar rtcwake runuser service shadowconfig start-stop-daemon sulogin swaplabel swapoff "
        "swapon switch_root tarcat tune2fs unix_chkpwd unix_update update-passwd update-rc.d "
        "update-shells useradd userdel usermod vigr vipw wipefs zic zramctl "
    ),
}

DEBIAN_TRIXIE = {
    "/usr/bin": (
        "[ apt apt-cache apt-cdrom apt-config apt-get apt-mark arch awk b2sum base32 base64 basename "
        "basenc bash bashbug captoinfo cat chage chcon chfn chgrp chmod choom chown chrt chsh cksum "
        "clear clear_console cmp comm cp csplit cut dash date dd deb-systemd-helper "
        "deb-systemd-invoke debconf debconf-apt-progress debconf-communicate debconf-copydb "
        "debconf-escape debconf-set-selections debconf-show df diff diff3 dir dircolors dirname dmesg "
        "dnsdomainname domainname dpkg dpkg-deb dpkg-divert dpkg-maintscript-helper dpkg-query "
        "dpkg-realpath dpkg-split dpkg-statoverride dpkg-trigger du echo egrep env expand expiry expr "
        "factor fallocate false fgrep find findmnt flock fmt fold getconf getent getopt gpasswd grep "
        "groups gunzip gzexe gzip hardlink head hostid hostname i386 iconv id infocmp infotocap "
        "install ionice ipcmk ipcrm ipcs ischroot join ld.so ldd link linux32 linux64 ln locale "
        "localedef logger login logname ls lsblk lscpu lsipc lslocks lslogins lsmem lsns mawk mcookie "
        "md5sum mkdir mkfifo mknod mktemp more mount mountpoint mv namei nawk newgrp nice "
        "nisdomainname nl nohup nproc nsenter numfmt od pager partx passwd paste pathchk perl "
        "perl5.40.1 pidof pinky pldd pr printenv printf prlimit ptx pwd rbash readlink realpath "
        "rename.ul renice reset rev rgrep rm rmdir run-parts runcon savelog script scriptlive "
        "scriptreplay sdiff sed seq setarch setpriv setsid setterm sg sh sha1sum sha224sum sha256sum "
        "sha384sum sha512sum shred shuf sleep sort split sqv stat stdbuf stty su sum sync tabs tac "
        "tail tar taskset tee tempfile test tic timeout toe touch tput tr true truncate tset tsort "
        "tty tzselect uclampset umount uname uncompress unexpand uniq unlink unshare "
        "update-alternatives users vdir wall wc wdctl whereis which which.debianutils who whoami "
        "x86_64 xargs yes ypdomainname zcat zcmp zdiff zdump zegrep zfgrep zforce zgrep zless zmore "
        "znew "
    ),
    "/usr/sbin": (
        "add-shell agetty blkdiscard blkid blkzone blockdev chcpu chgpasswd chmem chpasswd chroot "
        "dpkg-preconfigure dpkg-reconfigure faillock findfs fsck fsfreeze fstab-decode fstrim getty "
        "groupadd groupdel groupmod grpck grpconv grpunconv iconvconfig installkernel invoke-rc.d "
        "isosize killall5 ldattach ldconfig losetup mkfs mkhomedir_helper mkswap newusers nologin "
        "pam-auth-update pam_getenv pam_namespace_helper pam_timestamp_check pivot_root pwck pwconv "
        "pwhistory_helper pwunconv readprofile remove-shell rmt rmt-tar rtcwake runuser service "
        "shadowconfig start-stop-daemon sulogin swaplabel swapoff swapon switch_root tarcat "
        "unix_chkpwd unix_update update-passwd update-rc.d update-shells useradd userdel usermod vigr "
        "vipw wipefs zic zramctl "
    ),
}

# Ubuntu: the package set of the ubuntu:22.04 image is its published manifest
# (ubuntu-jammy-oci-amd64.manifest, 2022; tianon/docker-brew-ubuntu-core). Every package of
# the Debian bookworm minbase set above is in it; these are the programs of the ones that
# are not (procps 3.3.17 and sensible-utils), by their Debian/Ubuntu file lists.
UBUNTU_EXTRA = {
    "/usr/bin": (
        "free kill pgrep pkill pmap ps pwdx skill slabtop snice tload top uptime vmstat w watch "
        "select-editor sensible-browser sensible-editor sensible-pager "
    ),
    "/usr/sbin": "sysctl ",
}

# Commands of the ubuntu:24.04 image whose presence is not confirmed by a manifest
# (packages of the 22.04 image that 24.04 may have dropped).
UBUNTU_NOBLE_UNCERTAIN = (
    "free kill pgrep pkill pmap ps pwdx skill slabtop snice tload top uptime vmstat w watch sysctl "
    "adduser addgroup deluser delgroup "
    "badblocks chattr debugfs dumpe2fs e2freefrag e2fsck e2image e2label e2mmpstatus e2scrub "
    "e2scrub_all e2undo e4crypt e4defrag filefrag fsck.ext2 fsck.ext3 fsck.ext4 lsattr mke2fs "
    "mkfs.ext2 mkfs.ext3 mkfs.ext4 mklost+found resize2fs tune2fs logsave "
    "fincore hwclock lsfd lsirq "
)

# Alpine minirootfs 3.19-3.21: alpine-baselayout, alpine-keys, apk-tools, busybox (applet
# links made by `busybox --install -s`), busybox-binsh, ca-certificates-bundle, libc-utils,
# musl, musl-utils, scanelf, ssl_client, zlib, libcrypto3/libssl3. Not merged-/usr.
ALPINE = {
    "/bin": (
        "arch ash base64 bbconfig busybox cat chattr chgrp chmod chown cp date dd df dmesg "
        "dnsdomainname dumpkmap echo ed egrep false fatattr fdflush fgrep fsync getopt grep gunzip "
        "gzip hostname ionice iostat ipcalc kbd_mode kill link linux32 linux64 ln login ls lsattr "
        "lzop makemime mkdir mknod mktemp more mount mountpoint mpstat mv netstat nice pidof ping "
        "ping6 pipe_progress printenv ps pwd reformime rev rm rmdir run-parts sed setpriv setserial "
        "sh sleep stat stty su sync tar touch true umount uname usleep watch zcat "
    ),
    "/sbin": (
        "acpid adjtimex apk arp blkid blockdev depmod fbsplash fdisk findfs fsck fstrim getty halt "
        "hdparm hwclock ifconfig ifdown ifenslave ifup init inotifyd insmod ip ipaddr iplink ipneigh "
        "iproute iprule iptunnel klogd ldconfig loadkmap logread losetup lsmod mdev mkdosfs "
        "mkfs.vfat mkswap modinfo modprobe nameif nologin pivot_root poweroff raidautorun reboot "
        "rmmod route setconsole slattach swapoff swapon switch_root sysctl syslogd tunctl udhcpc "
        "vconfig watchdog "
    ),
    "/usr/bin": (
        "[ [[ awk basename bc beep blkdiscard bunzip2 bzcat bzip2 cal chvt cksum clear cmp comm "
        "cpio crontab cryptpw cut dc deallocvt diff dirname dos2unix du eject env expand expr "
        "factor fallocate find flock fold free fuser getconf getent groups hd head hexdump hostid "
        "iconv id install ipcrm ipcs killall last ldd less logger lsof lsusb lzcat lzma lzopcat "
        "md5sum mesg microcom mkfifo mkpasswd nc nl nmeter nohup nproc nsenter nslookup od openvt "
        "passwd paste patch pgrep pkill pmap printf pscan pstree pwdx readlink realpath renice "
        "reset resize scanelf seq setkeycodes setsid sha1sum sha256sum sha3sum sha512sum showkey "
        "shred shuf smemcap sort split ssl_client strings sum tac tail tee test time timeout top tr "
        "traceroute traceroute6 tree truncate tsort tty ttysize udhcpc6 unexpand uniq unix2dos "
        "unlink unlzma unlzop unshare unxz unzip uptime uudecode uuencode vi vlock volname wc wget "
        "which whoami whois xargs xxd xzcat yes "
    ),
    "/usr/sbin": (
        "add-shell addgroup adduser arping brctl chpasswd chroot crond delgroup deluser "
        "dumpleases ether-wake fbset killall5 loadfont nanddump nandwrite nbd-client ntpd "
        "partprobe powertop rdate rdev readahead remove-shell rfkill sendmail setfont setlogcons "
    ),
}

# The busybox image (docker-library/busybox): busybox built from its defconfig, every applet
# installed into /bin, plus /bin/getconf and /usr/bin/env. Only the applets listed here are
# claimed; defconfig enables more.
BUSYBOX = {
    "/bin": (
        "[ [[ addgroup adduser ar arp ash awk base64 basename bc bunzip2 busybox bzcat bzip2 cal "
        "cat chgrp chmod chown chroot cksum clear cmp comm cp cpio crond crontab cut date dc dd "
        "delgroup deluser df diff dirname dmesg dnsdomainname dos2unix du echo ed egrep env expand "
        "expr factor false fgrep find flock fold free fuser getconf getopt grep groups gunzip gzip "
        "halt hd head hexdump hostid hostname httpd hush id ifconfig install ip ipcalc kill "
        "killall less link ln logger login ls lsof lzcat md5sum mkdir mkfifo mknod mktemp more "
        "mount mv nc netstat nice nl nohup nproc nslookup od passwd paste patch pgrep pidof ping "
        "pkill printenv printf ps pstree pwd readlink realpath reboot renice reset rev rm rmdir "
        "route run-parts sed seq setsid sh sha1sum sha256sum sha512sum shuf sleep sort split stat "
        "strings stty su sum sync sysctl tac tail tar tee telnet test tftp time timeout top touch "
        "tr traceroute true truncate tty udhcpc umount uname uniq unix2dos unlink unxz unzip "
        "uptime usleep uudecode uuencode vi watch wc wget which who whoami xargs xxd xzcat yes zcat "
    ),
    "/usr/bin": "env ",
}

# Commands known to be absent from the images whose lists are not complete.
BUSYBOX_ABSENT = (
    "bash zsh curl git apt apt-get dpkg apk yum dnf python python3 pip pip3 perl sudo gcc cc "
    "make ssh scp openssl gpg node npm java ruby go useradd groupadd "
)
