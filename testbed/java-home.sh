# Sourced by the project's scripts: points JAVA_HOME at a JDK 25 or newer (the machine's default java may be older).
_nfscsi_java_major() { sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null; }
if [ -z "${JAVA_HOME:-}" ] || [ "$(_nfscsi_java_major "$JAVA_HOME")" -lt 25 ] 2>/dev/null \
    || [ -z "$(_nfscsi_java_major "$JAVA_HOME")" ]; then
  for _jdk in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    if [ -x "$_jdk/bin/javac" ] && [ "$(_nfscsi_java_major "$_jdk")" -ge 25 ] 2>/dev/null; then
      export JAVA_HOME=$_jdk
      break
    fi
  done
fi
export PATH=$JAVA_HOME/bin:$PATH
unset _jdk
