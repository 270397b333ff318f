"""Executables of root images, as data.

Debian (``debian:bookworm*``, ``debian:trixie*``): the files ``data/root-debian-<release>.tsv``
written by ``tools/build-root-inventory``, read off real roots built with ``debootstrap
--variant=minbase --merged-usr RELEASE DIR http://deb.debian.org/debian`` (the variant
debuerreotype builds the ``debian`` images from; ``-slim`` removes documentation, not
programs), plus the ``/usr/sbin/policy-rc.d`` the images add. Each file's header records
the debootstrap version, mirror, Release date, generation date and installed packages. The
roots are merged-/usr: /bin and /sbin are links to /usr/bin and /usr/sbin (the header's
``links``), so every name there is also reachable through them.

The others are tables of names per directory, below.
"""

import json
import os

_DATA = os.path.join(os.path.dirname(__file__), "data")
DEBIAN_RELEASES = ("bookworm", "trixie")


def debian_root(release: str) -> tuple[dict, list[tuple[str, str, str]]]:
    """(header, [(path, owning package, note), ...]) of the shipped Debian root inventory
    of ``release``; FileNotFoundError when none is shipped."""
    if release not in DEBIAN_RELEASES:
        raise FileNotFoundError(f"no root inventory shipped for Debian {release!r}")
    with open(os.path.join(_DATA, f"root-debian-{release}.tsv"), encoding="utf-8") as fh:
        first = fh.readline()
        header = json.loads(first[1:]) if first.startswith("#") else {}
        rows = []
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if parts and parts[0].startswith("/"):
                rows.append((parts[0], parts[1] if len(parts) > 1 else "-", parts[2] if len(parts) > 2 else ""))
    return header, rows


# Ubuntu: the package set of the ubuntu:22.04 image is its published manifest
# (ubuntu-jammy-oci-amd64.manifest, 2022; tianon/docker-brew-ubuntu-core). Every package of
# the Debian bookworm minbase set (data/root-debian-bookworm.tsv) is in it; these are the programs of the ones that
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
