# Sourced by the project's scripts (bash): points JAVA_HOME at a JDK 25 or newer (the machine's default java may be
# older) and puts its bin first on PATH. bin/nfs-csi holds the search, so that the scripts build and test with the
# Java that the launcher would run the driver on: JAVA_HOME, the java on PATH, then the JDKs in /usr/lib/jvm; here
# one with javac. With none, the launcher's one-line message says what it found.
if _nfscsi_jdk=$(NFSCSI_FIND_JAVA=javac "$(dirname "${BASH_SOURCE[0]}")/../bin/nfs-csi"); then
  export JAVA_HOME=$_nfscsi_jdk
  export PATH=$JAVA_HOME/bin:$PATH
fi
unset _nfscsi_jdk
