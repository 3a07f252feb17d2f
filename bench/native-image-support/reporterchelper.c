/*
 * The one JNI library that the native-image builder loads into its own JVM
 * (com.oracle.svm.hosted.ProgressReporterCHelper, from java.home/lib/svm/builder/lib): the builder's peak RSS and the
 * terminal's width for its progress report. A GraalVM distribution ships it; the builder's Maven Central jars do
 * not, and without it the builder stops at its epilog ("Helper library for ProgressReporterCHelper not available"),
 * hiding the real outcome of the build. Written for bench/native-image from the two native methods' signatures.
 */
#include <jni.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

JNIEXPORT jlong JNICALL Java_com_oracle_svm_hosted_ProgressReporterCHelper_getPeakRSS0(JNIEnv *env, jclass c) {
  struct rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0) {
    return -1;
  }
  return (jlong) u.ru_maxrss * 1024; /* Linux reports KiB */
}

JNIEXPORT jint JNICALL Java_com_oracle_svm_hosted_ProgressReporterCHelper_getTerminalWindowColumns0(JNIEnv *env, jclass c) {
  struct winsize w;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) != 0) {
    return -1;
  }
  return w.ws_col;
}
