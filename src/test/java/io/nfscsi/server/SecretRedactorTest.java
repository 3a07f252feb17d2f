package io.nfscsi.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Descriptors.FieldDescriptor;
import io.nfscsi.csi.v1.Csi;
import org.junit.jupiter.api.Test;

class SecretRedactorTest {

    static final String SENTINEL = "hunter2-sentinel";

    @Test
    void render_secretsMap_masksValuesKeepsKeys() {
        var request = Csi.NodePublishVolumeRequest.newBuilder().setVolumeId("v")
                .putSecrets("password", SENTINEL).putSecrets("user", SENTINEL + "-user")
                .putVolumeContext("server", "nfs.example.com").build();
        String line = SecretRedactor.render(request);
        assertThat(line).doesNotContain(SENTINEL).contains("password", "user", "***", "nfs.example.com");
        assertThat(line).doesNotContain("\n");
    }

    @Test
    void render_everySecretFieldOfEveryMessage_isMasked() {
        // every message of the spec that has a secrets field, filled through reflection
        for (var type : Csi.getDescriptor().getMessageTypes()) {
            for (FieldDescriptor field : type.getFields()) {
                if (!SecretRedactor.isSecret(field)) {
                    continue;
                }
                var builder = com.google.protobuf.DynamicMessage.newBuilder(type);
                if (field.isMapField()) {
                    var entryType = field.getMessageType();
                    builder.addRepeatedField(field, com.google.protobuf.DynamicMessage.newBuilder(entryType)
                            .setField(entryType.findFieldByName("key"), "k")
                            .setField(entryType.findFieldByName("value"), SENTINEL).build());
                } else {
                    builder.setField(field, SENTINEL);
                }
                assertThat(SecretRedactor.render(builder.build())).as(type.getName() + "." + field.getName())
                        .doesNotContain(SENTINEL);
            }
        }
    }

    @Test
    void redact_messageWithoutSecrets_isReturnedAsIs() {
        var request = Csi.NodeUnpublishVolumeRequest.newBuilder().setVolumeId("v").setTargetPath("/t").build();
        assertThat(SecretRedactor.redact(request)).isSameAs(request);
    }

    @Test
    void redact_doesNotChangeTheOriginal() {
        var request = Csi.DeleteVolumeRequest.newBuilder().setVolumeId("v").putSecrets("k", SENTINEL).build();
        SecretRedactor.render(request);
        assertThat(request.getSecretsMap()).containsEntry("k", SENTINEL);
    }
}
