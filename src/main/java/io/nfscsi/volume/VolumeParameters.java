package io.nfscsi.volume;

import io.nfscsi.error.CsiException;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a StorageClass asks of CreateVolume: the export to provision in, the volume's directory below it, the mode
 * of that directory and what DeleteVolume will do. Keys are case-insensitive, as in csi-driver-nfs:
 * <ul>
 *   <li>{@code server}, {@code share}: required; the share is absolute and normalized here;</li>
 *   <li>{@code subDir}: the volume's directory below the share, by default the PV name; may use
 *       {@code ${pvc.metadata.name}}, {@code ${pvc.metadata.namespace}} and {@code ${pv.metadata.name}}, which
 *       csi-provisioner passes with {@code --extra-create-metadata};</li>
 *   <li>{@code mountPermissions}: octal mode of the new directory, 0 or absent to leave it;</li>
 *   <li>{@code onDelete}: {@code delete}, {@code retain} or {@code archive}, by default the driver's;</li>
 *   <li>{@code csi.storage.k8s.io/*}: set by Kubernetes; accepted, and the metadata keys fill the templates.</li>
 * </ul>
 * Everything here also fits a {@link VolumeId}: no field holds '#', and the subDir never leaves the share.
 *
 * @param server           host name or IP address of the NFS server
 * @param share            absolute, normalized export path
 * @param subDirTemplate   the {@code subDir} parameter as written, {@code null} when absent or empty
 * @param subDir           the volume's directory below the share, templates resolved; relative, never empty
 * @param mountPermissions mode for the volume's directory, 0 for "leave as is"
 * @param onDelete         what DeleteVolume does with the directory
 */
public record VolumeParameters(String server, String share, String subDirTemplate, String subDir,
                               int mountPermissions, OnDelete onDelete) {

    public static final String SERVER = "server";
    public static final String SHARE = "share";
    public static final String SUB_DIR = "subDir";
    public static final String MOUNT_PERMISSIONS = "mountPermissions";
    public static final String ON_DELETE = "onDelete";
    public static final String MOUNT_OPTIONS = "mountOptions";

    /** csi-provisioner's extra-create-metadata keys. */
    public static final String PVC_NAME_KEY = "csi.storage.k8s.io/pvc/name";
    public static final String PVC_NAMESPACE_KEY = "csi.storage.k8s.io/pvc/namespace";
    public static final String PV_NAME_KEY = "csi.storage.k8s.io/pv/name";

    /** Template name inside {@code ${...}} → the metadata key that holds its value. */
    private static final Map<String, String> TEMPLATES = Map.of(
            "pvc.metadata.name", PVC_NAME_KEY,
            "pvc.metadata.namespace", PVC_NAMESPACE_KEY,
            "pv.metadata.name", PV_NAME_KEY);

    public VolumeParameters {
        try {
            VolumeId.checkServer(server);
            share = VolumeId.normalizeShare(share);
            VolumeId.checkSubDir(subDir);
        } catch (VolumeId.InvalidException e) {
            throw new CsiException.InvalidArgument("parameters." + e.getMessage());
        }
        if (mountPermissions < 0 || mountPermissions > 07777) {
            throw new CsiException.InvalidArgument("parameters.mountPermissions " + Integer.toOctalString(
                    mountPermissions) + " is not a file mode");
        }
        if (onDelete == null) {
            throw new CsiException.InvalidArgument("parameters.onDelete is required");
        }
        NfsSource.of(server, share, subDir); // cannot fail after the stricter checks above
    }

    /**
     * Reads CreateVolume's {@code parameters}.
     *
     * @param pvName          CreateVolume's name, the PV name; the default subDir
     * @param defaultOnDelete the driver's policy, for a StorageClass without (or with an empty) {@code onDelete}
     * @throws CsiException.InvalidArgument naming the key, template or field that is unknown, missing or invalid
     */
    public static VolumeParameters parse(Map<String, String> parameters, String pvName, OnDelete defaultOnDelete) {
        RequestFields.required("name", pvName);
        Objects.requireNonNull(defaultOnDelete, "defaultOnDelete");
        Map<String, String> byKey = new HashMap<>();
        for (var e : parameters.entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            if (!key.startsWith(VolumeContext.KUBERNETES_PREFIX) && !isKnown(key)) {
                throw new CsiException.InvalidArgument("parameters has unknown key \""
                        + NfsSource.printable(e.getKey()) + "\"; known: server, share, subDir, mountPermissions, "
                        + "onDelete and " + VolumeContext.KUBERNETES_PREFIX + "*");
            }
            if (byKey.putIfAbsent(key, e.getValue() == null ? "" : e.getValue()) != null) {
                throw new CsiException.InvalidArgument("parameters has key \"" + NfsSource.printable(e.getKey())
                        + "\" more than once, in different letter case");
            }
        }
        String server = byKey.get("server");
        if (server == null || server.isEmpty()) {
            throw new CsiException.InvalidArgument("parameters.server is required");
        }
        String share = byKey.get("share");
        if (share == null || share.isEmpty()) {
            throw new CsiException.InvalidArgument("parameters.share is required");
        }
        String template = byKey.get("subdir");
        if (template != null && template.isEmpty()) {
            template = null;
        }
        String subDir = template == null ? pvName : resolve(template, byKey);
        String mode = byKey.get("mountpermissions");
        int permissions = mode == null ? 0 : VolumeContext.parseMode("parameters.mountPermissions", mode);
        String policy = byKey.get("ondelete");
        OnDelete onDelete = policy == null || policy.isEmpty()
                ? defaultOnDelete : OnDelete.parse("parameters.onDelete", policy);
        return new VolumeParameters(server, share, template, subDir, permissions, onDelete);
    }

    private static boolean isKnown(String lowerKey) {
        return switch (lowerKey) {
            case "server", "share", "subdir", "mountpermissions", "ondelete" -> true;
            default -> false;
        };
    }

    /** Replaces each {@code ${name}} by its metadata value; unknown names and missing values are errors. */
    private static String resolve(String template, Map<String, String> byKey) {
        StringBuilder out = new StringBuilder();
        int from = 0;
        while (true) {
            int start = template.indexOf("${", from);
            if (start < 0) {
                return out.append(template, from, template.length()).toString();
            }
            int end = template.indexOf('}', start + 2);
            if (end < 0) {
                throw new CsiException.InvalidArgument("parameters.subDir \"" + NfsSource.printable(template)
                        + "\" has a \"${\" without \"}\"");
            }
            String name = template.substring(start + 2, end);
            String key = TEMPLATES.get(name);
            if (key == null) {
                throw new CsiException.InvalidArgument("parameters.subDir has unknown template \"${"
                        + NfsSource.printable(name) + "}\"; known: ${pvc.metadata.name}, ${pvc.metadata.namespace}, "
                        + "${pv.metadata.name}");
            }
            String value = byKey.get(key);
            if (value == null || value.isEmpty()) {
                throw new CsiException.InvalidArgument("parameters.subDir uses ${" + name + "}, but the request has no "
                        + key + " (run csi-provisioner with --extra-create-metadata)");
            }
            out.append(template, from, start).append(value);
            from = end + 1;
        }
    }

    /**
     * These parameters with CreateVolume's {@code mutable_parameters} applied: the spec has them take precedence
     * over {@code parameters}. Their {@code mountOptions} are not a parameter here: they take the place of the
     * capabilities' mount flags (see Provisioner).
     */
    public VolumeParameters with(MutableParameters mutable) {
        return new VolumeParameters(server, share, subDirTemplate, subDir,
                mutable.mountPermissions().orElse(mountPermissions), mutable.onDelete().orElse(onDelete));
    }

    /** The volume's directory, {@code server:/share/subDir}. */
    public NfsSource source() {
        return NfsSource.of(server, share, subDir);
    }

    /** The export the volume is made in, {@code server:/share}. */
    public NfsSource shareSource() {
        return NfsSource.of(server, share, null);
    }

    /**
     * The {@code volume_context} that CreateVolume returns, for the node to mount from: server, share, subDir
     * (resolved), onDelete, mountPermissions (octal, only if set) and mountOptions (only if there are any).
     *
     * @param mountFlags the capabilities' mount flags, each possibly a comma list; validated and de-duplicated
     * @throws CsiException.InvalidArgument if a mount flag is malformed
     */
    public Map<String, String> volumeContext(List<String> mountFlags) {
        Map<String, String> context = new LinkedHashMap<>();
        context.put(SERVER, server);
        context.put(SHARE, share);
        context.put(SUB_DIR, subDir);
        if (mountPermissions > 0) {
            context.put(MOUNT_PERMISSIONS, octal(mountPermissions));
        }
        context.put(ON_DELETE, onDelete.value());
        List<String> options = MountOptions.merge(mountFlags, List.of(), false);
        if (!options.isEmpty()) {
            context.put(MOUNT_OPTIONS, String.join(",", options));
        }
        return Collections.unmodifiableMap(context);
    }

    /**
     * The effective parameters, sorted by key, for telling whether a repeated CreateVolume asks for the same volume:
     * server, share, subDir (resolved), mountPermissions (octal, always) and onDelete.
     */
    public Map<String, String> canonical() {
        TreeMap<String, String> canonical = new TreeMap<>();
        canonical.put(SERVER, server);
        canonical.put(SHARE, share);
        canonical.put(SUB_DIR, subDir);
        canonical.put(MOUNT_PERMISSIONS, octal(mountPermissions));
        canonical.put(ON_DELETE, onDelete.value());
        return Collections.unmodifiableSortedMap(canonical);
    }

    private static String octal(int mode) {
        return String.format("%04o", mode);
    }
}
