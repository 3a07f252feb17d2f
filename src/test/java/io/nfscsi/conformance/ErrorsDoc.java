package io.nfscsi.conformance;

import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The (RPC, code) rows of docs/errors.md. Its tables have the call in the first column (empty: the call of the
 * row above; several calls separated by commas; {@code ControllerPublish/Unpublish} for two) and the codes in the
 * second ({@code `INVALID_ARGUMENT`}, several in one cell, or {@code OK, `abnormal: true`}).
 */
final class ErrorsDoc {

    record Row(String rpc, Status.Code code, int line) {}

    private static final Pattern CODE = Pattern.compile("\\b[A-Z][A-Z_]+\\b");

    private ErrorsDoc() {}

    /** Every RPC name of the Identity, Controller and Node services, as in csi.proto. */
    static Set<String> rpcs() {
        Set<String> names = new LinkedHashSet<>();
        for (ServiceDescriptor s : List.of(IdentityGrpc.getServiceDescriptor(), ControllerGrpc.getServiceDescriptor(),
                NodeGrpc.getServiceDescriptor())) {
            for (MethodDescriptor<?, ?> m : s.getMethods()) {
                names.add(m.getBareMethodName());
            }
        }
        return names;
    }

    static List<Row> parse(String markdown) {
        Set<String> rpcs = rpcs();
        List<Row> rows = new ArrayList<>();
        List<String> current = List.of();
        // only the tables whose first column is "call" list codes per RPC; others (the mount-failure causes) explain
        boolean perCall = false;
        String[] lines = markdown.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (!line.startsWith("|")) {
                current = List.of();
                perCall = false;
                continue;
            }
            String[] cells = line.substring(1).split("\\|", -1);
            if (cells.length >= 2 && cells[0].strip().equals("call")) {
                perCall = true;
                continue;
            }
            if (!perCall || cells.length < 2 || cells[0].strip().startsWith("---")) {
                continue;
            }
            String call = cells[0].strip();
            if (!call.isEmpty()) {
                current = calls(call, rpcs, i + 1);
            }
            if (current.isEmpty()) {
                throw new IllegalArgumentException("docs/errors.md line " + (i + 1) + ": no call for this row");
            }
            Matcher m = CODE.matcher(cells[1]);
            boolean any = false;
            while (m.find()) {
                Status.Code code = codeOf(m.group());
                if (code != null) {
                    any = true;
                    for (String rpc : current) {
                        rows.add(new Row(rpc, code, i + 1));
                    }
                }
            }
            if (!any) {
                throw new IllegalArgumentException("docs/errors.md line " + (i + 1) + ": no gRPC code in \""
                        + cells[1].strip() + "\"");
            }
        }
        return rows;
    }

    private static Status.Code codeOf(String word) {
        return Stream.of(Status.Code.values()).filter(c -> c.name().equals(word)).findFirst().orElse(null);
    }

    /** "NodeStageVolume, NodeUnstageVolume" or "ControllerPublish/Unpublish" or "CreateVolume from a source". */
    static List<String> calls(String cell, Set<String> rpcs, int line) {
        List<String> out = new ArrayList<>();
        for (String piece : cell.split(",")) {
            String word = piece.strip().split("\\s+")[0].replace("`", "");
            String[] alternatives = word.split("/");
            String service = alternatives[0].replaceAll("^([A-Z][a-z]+).*", "$1");
            for (int k = 0; k < alternatives.length; k++) {
                String name = k == 0 ? alternatives[0] : service + alternatives[k];
                out.add(resolve(name, rpcs, line));
            }
        }
        return out;
    }

    private static String resolve(String name, Set<String> rpcs, int line) {
        if (rpcs.contains(name)) {
            return name;
        }
        List<String> prefixed = rpcs.stream().filter(r -> r.startsWith(name)).toList();
        if (prefixed.size() == 1) {
            return prefixed.getFirst();
        }
        throw new IllegalArgumentException("docs/errors.md line " + line + ": \"" + name + "\" is not one RPC of "
                + "csi.proto (matches " + prefixed + ")");
    }
}
