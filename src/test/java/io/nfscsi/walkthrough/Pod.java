package io.nfscsi.walkthrough;

import io.nfscsi.testbed.Shell;
import java.nio.file.Path;

/**
 * A pod as the container runtime makes one: a mount namespace of its own ({@code unshare -m}) with the volume's
 * target bind-mounted at {@code /var/www}. Each call runs one shell script in a fresh such namespace.
 */
final class Pod {

    private final Path target;

    Pod(Path target) {
        this.target = target;
    }

    Shell.Result exec(String script) {
        return Shell.run(java.util.List.of("unshare", "-m", "--propagation", "private", "bash", "-c",
                "mkdir -p /var/www && mount --bind \"$0\" /var/www && cd /var/www && " + script,
                target.toString()));
    }
}
