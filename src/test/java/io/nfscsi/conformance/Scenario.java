package io.nfscsi.conformance;

import java.util.List;

/**
 * One conformance scenario: its name, the calls under test with their expected codes in the order the body makes
 * them, and the body. Setup calls go through {@link Bed#must}, calls under test through {@link Bed#call} (or
 * {@link Bed#async} and {@link Bed#await}), which check each one against the next entry of {@code expects}.
 */
record Scenario(String name, List<Expect> expects, Body body) {

    Scenario {
        expects = List.copyOf(expects);
        if (expects.isEmpty()) {
            throw new IllegalArgumentException(name + ": a scenario declares at least one call");
        }
    }

    @FunctionalInterface
    interface Body {
        void run(Bed bed) throws Exception;
    }
}
