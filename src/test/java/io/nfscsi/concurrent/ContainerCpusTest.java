package io.nfscsi.concurrent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContainerCpusTest {

    @ParameterizedTest(name = "{0} CPUs, cpu.max \"{1}\" -> {2}")
    @CsvSource(delimiter = '|', nullValues = "null", value = {
            "32 | 200000 100000 | 2",  // a 2-CPU limit on a 32-core node
            "32 | 150000 100000 | 2",  // 1.5 CPUs round up
            "32 | 50000 100000  | 1",  // half a CPU is still one thread
            "32 | max 100000    | 32", // no limit
            "4  | 800000 100000 | 4",  // the JVM's count (affinity) is smaller
            "8  | null          | 8",  // cgroup v1 or no cgroup file system
            "8  | garbage       | 8",
            "0  | null          | 1"})
    void of_quotaAndJvmCount_takesTheSmaller(int jvm, String cpuMax, int expected) {
        assertThat(ContainerCpus.of(jvm, cpuMax)).isEqualTo(expected);
    }

    @org.junit.jupiter.api.Test
    void available_isAtLeastOneAndAtMostTheJvmCount() {
        assertThat(ContainerCpus.available()).isBetween(1, Math.max(1, Runtime.getRuntime().availableProcessors()));
    }
}
