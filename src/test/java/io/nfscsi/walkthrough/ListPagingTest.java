package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.testbed.DriverProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * ListVolumes page by page against the real NFS server, where the driver reads only the records of each page and
 * keeps those it read while their files stay the same: volumes created and deleted between pages, a record replaced
 * through the driver's own mount (ControllerExpandVolume) and one replaced on the server, as another controller
 * replica would through its own mount. Correctness only; bench/listing measures the speed.
 */
@Tag("nfs")
class ListPagingTest {

    static final Path EXPORT = Path.of(System.getProperty("nfscsi.nfs.export", "/export"));
    static final Path SHARE = EXPORT.resolve("list-paging");
    static final long MIB = 1 << 20;
    static DriverProcess driver;

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.close();
        }
    }

    static Csi.Volume create(String pv) {
        return driver.controller().createVolume(Provisioner.create(pv, "ns", pv, MIB,
                Map.of("server", "127.0.0.1", "share", SHARE.toString()), List.of("vers=4.1"))).getVolume();
    }

    static List<Csi.ListVolumesResponse.Entry> all() {
        return driver.controller().listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesList();
    }

    static List<String> ids(List<Csi.ListVolumesResponse.Entry> entries) {
        return entries.stream().map(e -> e.getVolume().getVolumeId()).toList();
    }

    static Csi.ListVolumesResponse.Entry entryOf(String id) {
        return all().stream().filter(e -> e.getVolume().getVolumeId().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void pages_withCreatesAndDeletesBetweenThem_andReplacedRecords_showWhatIsOnTheShare() throws Exception {
        Files.createDirectories(SHARE);
        driver = DriverProcess.start(Path.of("/run/nfs-csi-list-paging"));
        step("24 volumes; every other one stays throughout the listing");
        List<String> kept = new ArrayList<>();
        List<String> churn = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            String id = create(String.format("pvc-paging-%02d", i)).getVolumeId();
            (i % 2 == 0 ? kept : churn).add(id);
        }

        step("pages of 5 match the full listing");
        List<String> full = ids(all());
        assertThat(full).containsExactlyInAnyOrderElementsOf(concat(kept, churn));
        assertThat(pages(5, () -> { })).containsExactlyElementsOf(full);

        step("pages of 5 with a delete and two creates between pages: the kept volumes once each, none twice");
        Random random = new Random(7);
        int[] made = {0};
        List<String> seen = pages(5, () -> {
            if (!churn.isEmpty()) {
                driver.controller().deleteVolume(Provisioner.delete(churn.remove(random.nextInt(churn.size()))));
            }
            for (int i = 0; i < 2; i++) {
                churn.add(create(String.format("pvc-paging-%02d-new%d", random.nextInt(30), made[0]++))
                        .getVolumeId());
            }
        });
        assertThat(seen).containsAll(kept).doesNotHaveDuplicates();
        assertThat(ids(all())).containsExactlyInAnyOrderElementsOf(concat(kept, churn));

        step("a volume grown through the driver is listed with its new capacity");
        String grown = kept.get(3);
        driver.controller().controllerExpandVolume(Csi.ControllerExpandVolumeRequest.newBuilder()
                .setVolumeId(grown).setCapacityRange(Csi.CapacityRange.newBuilder().setRequiredBytes(3 * MIB))
                .build());
        assertThat(entryOf(grown).getVolume().getCapacityBytes()).isEqualTo(3 * MIB);

        step("a record replaced on the server, as another replica's write lands, is listed as it is now");
        String other = kept.get(5);
        String name = other.split("#")[4];
        Path record = SHARE.resolve(".nfs-csi/volumes/" + name + ".properties");
        String text = Files.readString(record, StandardCharsets.UTF_8);
        assertThat(text).contains("capacityBytes=" + MIB);
        Path temp = record.resolveSibling("." + name + ".properties.replica.tmp");
        Files.writeString(temp, text.replace("capacityBytes=" + MIB, "capacityBytes=" + 4 * MIB));
        Files.move(temp, record, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        assertThat(entryOf(other).getVolume().getCapacityBytes()).isEqualTo(4 * MIB);

        step("a volume directory removed on the server is listed abnormal");
        String gone = kept.get(7);
        Files.delete(SHARE.resolve(gone.split("#")[3]));
        assertThat(entryOf(gone).getStatus().getVolumeCondition().getAbnormal()).isTrue();

        step("clean up through the driver");
        for (String id : ids(all())) {
            driver.controller().deleteVolume(Provisioner.delete(id));
        }
        assertThat(all()).isEmpty();
    }

    /** Every volume ID, {@code max} a page, running {@code between} after each page but the last. */
    static List<String> pages(int max, Runnable between) {
        List<String> ids = new ArrayList<>();
        String token = "";
        while (true) {
            var page = driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(max)
                    .setStartingToken(token).build());
            assertThat(page.getEntriesCount()).isLessThanOrEqualTo(max);
            ids.addAll(ids(page.getEntriesList()));
            token = page.getNextToken();
            if (token.isEmpty()) {
                return ids;
            }
            between.run();
        }
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
