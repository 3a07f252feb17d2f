# syntax=docker/dockerfile:1
# The nfs-csi image: the driver on a jlinked Java runtime, started from an AOT cache, with the NFS mount helpers.
# docs/image.md says what is in it and how each step runs without Docker.

# Build: the same Maven steps as outside Docker (./mvnw -B -Pruntime package): the jar and its libraries, then
# target/runtime, a Java runtime of only the modules the driver uses (jdeps, then jlink). The AOT cache is not
# recorded here but in the runtime stage below: a cache fits only the runtime, flags and jar paths it was made with.
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY .mvn/ .mvn/
COPY mvnw pom.xml ./
COPY src/ src/
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -Pruntime -DskipTests -Daot.skip=true package

# Run: Debian with the NFS client (mount.nfs from nfs-common; netbase for the protocol and RPC names that it looks
# up), the runtime, the jars laid out as the launcher expects (lib/nfs-csi.jar, its Class-Path in lib/lib/), and
# the launcher.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends nfs-common mount util-linux netbase ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# C.UTF-8: without a locale the JVM would read and write file names as ASCII
ENV JAVA_HOME=/opt/nfs-csi/runtime \
    LANG=C.UTF-8
COPY --from=build /src/target/runtime/ /opt/nfs-csi/runtime/
COPY --from=build /src/target/lib/ /opt/nfs-csi/lib/lib/
COPY --from=build /src/target/nfs-csi.jar /opt/nfs-csi/lib/
COPY bin/nfs-csi /opt/nfs-csi/bin/
# The AOT cache, recorded here with the files and paths the container runs (the JVM checks them): a training run
# of the launcher that serves the start-up calls, then SIGTERM. Its class comes from the build stage's test
# classes through a bind mount, so that it stays out of the image; bin/nfs-csi finds lib/nfs-csi.aot by itself.
RUN --mount=type=bind,from=build,source=/src/target/test-classes,target=/mnt/aot-training \
    /opt/nfs-csi/runtime/bin/java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
        -cp '/mnt/aot-training:/opt/nfs-csi/lib/nfs-csi.jar:/opt/nfs-csi/lib/lib/*' \
        io.nfscsi.image.AotTraining /opt/nfs-csi/bin/nfs-csi /opt/nfs-csi/runtime /opt/nfs-csi/lib/nfs-csi.aot \
    && rm -rf /tmp/*
ENTRYPOINT ["/opt/nfs-csi/bin/nfs-csi"]
