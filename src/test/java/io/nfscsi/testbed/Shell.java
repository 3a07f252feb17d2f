package io.nfscsi.testbed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command inside the test bed, for setting up the server side and for playing the pod. */
public final class Shell {

    public record Result(int exitCode, String output) {
        public Result orThrow() {
            if (exitCode != 0) {
                throw new IllegalStateException("exit " + exitCode + ": " + output);
            }
            return this;
        }
    }

    private Shell() {}

    /** Runs {@code script} with bash; stdout and stderr together. */
    public static Result sh(String script) {
        return run(List.of("bash", "-c", script));
    }

    public static Result run(List<String> argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + argv);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Prints a walkthrough step, so that a person running it sees where it is. */
    public static void step(String text) {
        System.out.println("==> " + text);
        System.out.flush();
    }
}
