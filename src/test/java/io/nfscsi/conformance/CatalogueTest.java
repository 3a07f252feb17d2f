package io.nfscsi.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.platform.commons.annotation.Testable;
import org.junit.platform.commons.support.AnnotationSupport;

/** Checks the conformance catalogue itself, without the test bed: what it covers and how it is written. */
class CatalogueTest {

    static List<ErrorsDoc.Row> docRows() throws Exception {
        Path doc = Path.of(System.getProperty("nfscsi.home", ".")).resolve("docs/errors.md");
        return ErrorsDoc.parse(Files.readString(doc, StandardCharsets.UTF_8));
    }

    static boolean declared(String rpc, Status.Code code) {
        return Catalogue.all().stream().flatMap(s -> s.expects().stream())
                .anyMatch(e -> e.rpc().equals(rpc) && e.code() == code);
    }

    @Test
    void everyRowOfErrorsDoc_isDeclaredByAScenario_orExcludedWithAReason() throws Exception {
        List<ErrorsDoc.Row> rows = docRows();
        assertThat(rows).as("rows parsed from docs/errors.md").hasSizeGreaterThan(30);
        List<String> uncovered = rows.stream()
                .filter(r -> !declared(r.rpc(), r.code()))
                .filter(r -> Catalogue.EXCLUSIONS.stream().noneMatch(x -> x.covers(r.rpc(), r.code())))
                .map(r -> r.rpc() + " " + r.code() + " (docs/errors.md line " + r.line() + ")")
                .distinct().toList();
        assertThat(uncovered).as("rows of docs/errors.md that no scenario declares and no exclusion names").isEmpty();
    }

    @Test
    void exclusions_areFewAndEachNamesARowThatNoScenarioCovers() {
        assertThat(Catalogue.EXCLUSIONS.stream().filter(x -> x.coveredBy().isEmpty()))
                .as("rows that no test provokes").hasSizeLessThanOrEqualTo(5);
        for (Exclusion x : Catalogue.EXCLUSIONS) {
            assertThat(x.reason()).as(x.toString()).isNotBlank();
            if (!x.rpc().equals("*")) {
                assertThat(ErrorsDoc.rpcs()).contains(x.rpc());
            }
            assertThat(Catalogue.all().stream().flatMap(s -> s.expects().stream())
                    .filter(e -> x.covers(e.rpc(), e.code())).toList())
                    .as("scenarios that provoke what " + x + " says cannot be provoked").isEmpty();
        }
    }

    @Test
    void coveredBy_namesTestMethodsThatExist() throws Exception {
        for (Exclusion x : Catalogue.EXCLUSIONS) {
            for (String ref : x.coveredBy()) {
                String[] parts = ref.split("#", -1);
                assertThat(parts).as(x + ": " + ref + " is package.Class#method").hasSize(2);
                Class<?> type = Class.forName("io.nfscsi." + parts[0]);
                List<Method> tests = Arrays.stream(type.getDeclaredMethods())
                        .filter(m -> m.getName().equals(parts[1]))
                        .filter(m -> AnnotationSupport.isAnnotated(m, Testable.class))
                        .toList();
                assertThat(tests).as(x + ": a test method " + ref).isNotEmpty();
            }
        }
    }

    @Test
    void scenarios_areAtLeastSixty_uniquelyNamed_andNameRealRpcs() {
        var all = Catalogue.all();
        assertThat(all).hasSizeGreaterThanOrEqualTo(60);
        Set<String> names = new HashSet<>();
        for (Scenario s : all) {
            assertThat(names.add(s.name())).as("duplicate scenario name " + s.name()).isTrue();
            for (Expect e : s.expects()) {
                assertThat(ErrorsDoc.rpcs()).as(s.name()).contains(e.rpc());
            }
        }
    }

    @Test
    void everyRpcOfTheServices_hasASuccessfulOrUnimplementedScenario() {
        for (String rpc : ErrorsDoc.rpcs()) {
            assertThat(declared(rpc, Status.Code.OK) || declared(rpc, Status.Code.UNIMPLEMENTED))
                    .as(rpc + " answers OK or UNIMPLEMENTED in some scenario").isTrue();
        }
    }

    @Test
    void parse_readsContinuationRowsSeveralCodesAndAbbreviatedCalls() {
        String md = """
                | call | code | when |
                |---|---|---|
                | NodePublishVolume | `INVALID_ARGUMENT` | x |
                | | `ABORTED`, `INTERNAL` | y |
                | ControllerPublish/Unpublish, ControllerModifyVolume | `UNIMPLEMENTED` | z |
                | CreateVolume from a source | `NOT_FOUND` | w |
                | NodeGetVolumeStats | OK, `abnormal: true` | v |
                """;
        assertThat(ErrorsDoc.parse(md)).extracting(r -> r.rpc() + " " + r.code()).containsExactly(
                "NodePublishVolume INVALID_ARGUMENT", "NodePublishVolume ABORTED", "NodePublishVolume INTERNAL",
                "ControllerPublishVolume UNIMPLEMENTED", "ControllerUnpublishVolume UNIMPLEMENTED",
                "ControllerModifyVolume UNIMPLEMENTED", "CreateVolume NOT_FOUND", "NodeGetVolumeStats OK");
    }
}
