package io.nfscsi.fuzz;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Replaces fields of a request, chosen at random among all the fields of its message type and of the messages
 * nested in it, by generic reflection over the proto descriptors: so that every field of csi.proto is reached,
 * the ones this driver ignores included. Strings and maps come from {@link Values}; enums get any number, known
 * or not; oneofs get another member or none; repeated fields and maps sometimes get hundreds of entries; and a
 * message sometimes carries unknown fields.
 */
final class Mutator {

    private static final int MAX_DEPTH = 4;

    private final Values values;

    Mutator(Values values) {
        this.values = values;
    }

    /** {@code base} with 0 to 4 random fields replaced; now and then a message built from nothing. */
    @SuppressWarnings("unchecked")
    <M extends Message> M mutate(M base, Random r) {
        Message.Builder b;
        int mutations;
        if (r.nextInt(20) == 0) {
            b = base.newBuilderForType();
            mutations = 3 + r.nextInt(8);
        } else {
            b = base.toBuilder();
            mutations = r.nextInt(7) == 0 ? 0 : 1 + r.nextInt(4);
        }
        for (int i = 0; i < mutations; i++) {
            mutateOne(b, r, 0);
        }
        return (M) b.build();
    }

    private void mutateOne(Message.Builder b, Random r, int depth) {
        List<FieldDescriptor> fields = b.getDescriptorForType().getFields();
        if (fields.isEmpty() || r.nextInt(25) == 0) {
            b.setUnknownFields(unknownFields(r));
            return;
        }
        FieldDescriptor f = fields.get(r.nextInt(fields.size()));
        if (r.nextInt(8) == 0) {
            b.clearField(f);
        } else if (f.isMapField()) {
            Map<String, String> entries;
            if (r.nextBoolean()) {
                String key = values.key(r);
                entries = Map.of(key, values.forKey(key, r));
            } else {
                b.clearField(f);
                entries = values.map(r);
            }
            for (Map.Entry<String, String> e : entries.entrySet()) {
                b.addRepeatedField(f, entry(b, f, e.getKey(), e.getValue()));
            }
        } else if (f.isRepeated()) {
            if (r.nextBoolean()) {
                b.clearField(f);
            }
            int n = r.nextInt(30) == 0 ? 100 + r.nextInt(400) : 1 + r.nextInt(3);
            Object template = b.getRepeatedFieldCount(f) > 0 ? b.getRepeatedField(f, 0) : null;
            for (int i = 0; i < n; i++) {
                b.addRepeatedField(f, value(b, f, template, r, depth));
            }
        } else {
            Object current = f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && b.hasField(f) ? b.getField(f) : null;
            b.setField(f, value(b, f, current, r, depth));
        }
    }

    /** A value for {@code f}; a message is {@code current} (or empty) with one of its own fields replaced. */
    private Object value(Message.Builder owner, FieldDescriptor f, Object current, Random r, int depth) {
        return switch (f.getJavaType()) {
            case STRING -> values.forField(f.getName(), r);
            case LONG -> Hostile.edgeLong(r);
            case INT -> (int) Hostile.edgeLong(r);
            case BOOLEAN -> r.nextBoolean();
            case DOUBLE -> r.nextDouble();
            case FLOAT -> r.nextFloat();
            case BYTE_STRING -> ByteString.copyFrom(Hostile.string(r).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            case ENUM -> r.nextInt(4) == 0
                    ? f.getEnumType().findValueByNumberCreatingIfUnknown((int) Hostile.edgeLong(r))
                    : f.getEnumType().getValues().get(r.nextInt(f.getEnumType().getValues().size()));
            case MESSAGE -> {
                Message.Builder sub = current instanceof Message m && r.nextInt(4) != 0 ? m.toBuilder()
                        : owner.newBuilderForField(f);
                int n = depth < MAX_DEPTH ? 1 + r.nextInt(2) : 0;
                for (int i = 0; i < n; i++) {
                    mutateOne(sub, r, depth + 1);
                }
                yield sub.build();
            }
        };
    }

    private static Message entry(Message.Builder owner, FieldDescriptor mapField, String key, String value) {
        Message.Builder e = owner.newBuilderForField(mapField);
        e.setField(e.getDescriptorForType().findFieldByName("key"), key);
        e.setField(e.getDescriptorForType().findFieldByName("value"), value);
        return e.build();
    }

    private static UnknownFieldSet unknownFields(Random r) {
        int number = 100 + r.nextInt(1000);
        UnknownFieldSet.Field.Builder field = UnknownFieldSet.Field.newBuilder();
        if (r.nextBoolean()) {
            field.addVarint(r.nextLong());
        } else {
            field.addLengthDelimited(ByteString.copyFromUtf8(Hostile.string(r)));
        }
        return UnknownFieldSet.newBuilder().addField(number, field.build()).build();
    }
}
