package io.nfscsi.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.testing.InProcessCsi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdentityServiceTest {

    @TempDir
    Path dir;

    @Test
    void pluginInfo_namesDriverAndVersion() throws Exception {
        try (var csi = new InProcessCsi(new IdentityService("nfs.example.org", "1.2.3", Optional::empty))) {
            var info = IdentityGrpc.newBlockingStub(csi.channel()).getPluginInfo(Csi.GetPluginInfoRequest.getDefaultInstance());
            assertThat(info.getName()).isEqualTo("nfs.example.org");
            assertThat(info.getVendorVersion()).isEqualTo("1.2.3");
        }
    }

    @Test
    void capabilities_advertiseTheControllerService() throws Exception {
        try (var csi = new InProcessCsi(new IdentityService("n", "v", Optional::empty))) {
            var caps = IdentityGrpc.newBlockingStub(csi.channel())
                    .getPluginCapabilities(Csi.GetPluginCapabilitiesRequest.getDefaultInstance());
            assertThat(caps.getCapabilitiesList()).extracting(c -> c.getService().getType())
                    .containsExactly(Csi.PluginCapability.Service.Type.CONTROLLER_SERVICE);
        }
    }

    @Test
    void probe_followsReadiness() throws Exception {
        AtomicReference<Optional<String>> reason = new AtomicReference<>(Optional.empty());
        try (var csi = new InProcessCsi(new IdentityService("n", "v", reason::get))) {
            var stub = IdentityGrpc.newBlockingStub(csi.channel());
            assertThat(stub.probe(Csi.ProbeRequest.getDefaultInstance()).getReady().getValue()).isTrue();
            reason.set(Optional.of("mount.nfs missing"));
            var reply = stub.probe(Csi.ProbeRequest.getDefaultInstance());
            assertThat(reply.hasReady()).isTrue();
            assertThat(reply.getReady().getValue()).isFalse();
        }
    }

    @Test
    void readiness_missingHelper_isNotReady() throws Exception {
        Path helper = dir.resolve("mount.nfs");
        Readiness r = Readiness.of(List.of(helper), List.of(dir));
        assertThat(r.notReadyReason()).isPresent();
        Files.writeString(helper, "#!/bin/sh\n");
        Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(r.notReadyReason()).isEmpty();
    }

    @Test
    void readiness_missingWorkingDirectory_isNotReady() throws Exception {
        Path helper = dir.resolve("mount.nfs");
        Files.writeString(helper, "#!/bin/sh\n");
        Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThat(Readiness.of(List.of(helper), List.of(dir.resolve("absent"))).notReadyReason())
                .hasValueSatisfying(s -> assertThat(s).contains("absent"));
    }
}
