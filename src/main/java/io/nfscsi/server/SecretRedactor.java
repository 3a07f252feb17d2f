package io.nfscsi.server;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.nfscsi.csi.v1.Csi;
import java.util.List;

/**
 * Renders a CSI message for a log with every field that the spec marks {@code csi_secret} replaced by {@code ***}:
 * string fields become {@code ***}, the values of a secret map become {@code ***} (the keys stay: they say which
 * secrets were sent, not what they are), any other secret field is dropped. Nested messages are searched too.
 */
public final class SecretRedactor {

    private static final String MASK = "***";

    private SecretRedactor() {}

    /** One-line text form of {@code message} without secrets. */
    public static String render(Message message) {
        return TextFormat.printer().emittingSingleLine(true).printToString(redact(message));
    }

    /** A copy of {@code message} with secrets masked; the message itself when it holds none. */
    public static Message redact(Message message) {
        Message.Builder copy = null;
        for (var entry : message.getAllFields().entrySet()) {
            FieldDescriptor field = entry.getKey();
            Object value = entry.getValue();
            if (isSecret(field)) {
                if (copy == null) {
                    copy = message.toBuilder();
                }
                mask(copy, field, value);
            } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !field.isMapField()) {
                if (field.isRepeated()) {
                    List<?> items = (List<?>) value;
                    for (int i = 0; i < items.size(); i++) {
                        Message item = (Message) items.get(i);
                        Message clean = redact(item);
                        if (clean != item) {
                            if (copy == null) {
                                copy = message.toBuilder();
                            }
                            copy.setRepeatedField(field, i, clean);
                        }
                    }
                } else {
                    Message nested = (Message) value;
                    Message clean = redact(nested);
                    if (clean != nested) {
                        if (copy == null) {
                            copy = message.toBuilder();
                        }
                        copy.setField(field, clean);
                    }
                }
            }
        }
        return copy == null ? message : copy.build();
    }

    static boolean isSecret(FieldDescriptor field) {
        return field.getOptions().getExtension(Csi.csiSecret);
    }

    private static void mask(Message.Builder copy, FieldDescriptor field, Object value) {
        if (field.isMapField()) {
            copy.clearField(field);
            for (Object item : (List<?>) value) {
                Message entry = (Message) item;
                FieldDescriptor entryValue = entry.getDescriptorForType().findFieldByName("value");
                if (entryValue.getJavaType() == FieldDescriptor.JavaType.STRING) {
                    copy.addRepeatedField(field, entry.toBuilder().setField(entryValue, MASK).build());
                }
            }
        } else if (field.getJavaType() == FieldDescriptor.JavaType.STRING && !field.isRepeated()) {
            copy.setField(field, MASK);
        } else {
            copy.clearField(field);
        }
    }
}
