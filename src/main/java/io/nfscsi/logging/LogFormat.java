package io.nfscsi.logging;

import java.util.Locale;

/** How a record becomes a line: Kubernetes' klog text format, or Kubernetes' JSON log format. */
public enum LogFormat {
    TEXT, JSON;

    /** {@code text} or {@code json}, as {@code --logging-format} takes them (the names Kubernetes components use). */
    public static LogFormat parse(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "text" -> TEXT;
            case "json" -> JSON;
            default -> throw new IllegalArgumentException(
                    "--logging-format: \"" + value + "\" is neither text nor json");
        };
    }
}
