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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * ListVolumes against the real NFS server once the share's directories have settled (no change for longer than the
 * driver's settle time): the driver then answers from the names, records and directory types it kept, as long as
 * the records directory and the share root are at the versions it read them at. Every change made after such a
 * listing, through the driver or on the server as another controller replica would, shows in the next page or
 * listing: volumes created and deleted between pages, a record replaced by one of the same size, a volume directory
 * removed, replaced by a file, and made again.
 */
@Tag("nfs")
class ListSettledTest {

    static final Path SHARE = ListPagingTest.EXPORT.resolve("list-settled");
    static final long MIB = 1 << 20;
    /** Longer than the driver's settle time (RecordDirectory.SETTLE_NANOS, 2 s), so that what it read is kept. */
    static final long SETTLE_MILLIS = 3_000;
    static DriverProcess driver;

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.close();
        }
    }

    static String create(String pv) {
        return driver.controller().createVolume(Provisioner.create(pv, "ns", pv, MIB,
                Map.of("server", "127.0.0.1", "share", SHARE.toString()), List.of("vers=4.1"))).getVolume()
                .getVolumeId();
    }

    static List<Csi.ListVolumesResponse.Entry> all() {
        return driver.controller().listVolumes(Csi.ListVolumesRequest.getDefaultInstance()).getEntriesList();
    }

    static List<String> ids(List<Csi.ListVolumesResponse.Entry> entries) {
        return entries.stream().map(e -> e.getVolume().getVolumeId()).toList();
    }

    static Csi.ListVolumesResponse.Entry entryOf(List<Csi.ListVolumesResponse.Entry> entries, String id) {
        return entries.stream().filter(e -> e.getVolume().getVolumeId().equals(id)).findFirst().orElseThrow();
    }

    static boolean abnormal(List<Csi.ListVolumesResponse.Entry> entries, String id) {
        return entryOf(entries, id).getStatus().getVolumeCondition().getAbnormal();
    }

    /** Waits out the settle time, then lists twice: the second listing is answered from what the first kept. */
    static List<Csi.ListVolumesResponse.Entry> settledListing() throws InterruptedException {
        Thread.sleep(SETTLE_MILLIS);
        List<String> first = ids(all());
        List<Csi.ListVolumesResponse.Entry> second = all();
        assertThat(ids(second)).containsExactlyElementsOf(first);
        return second;
    }

    @Test
    void afterASettledListing_everyChangeOnTheShare_showsInTheNextPageOrListing() throws Exception {
        Files.createDirectories(SHARE);
        driver = DriverProcess.start(Path.of("/run/nfs-csi-list-settled"));
        step("12 volumes, then two listings once the share has settled");
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            made.add(create(String.format("pvc-settled-%02d", i)));
        }
        List<Csi.ListVolumesResponse.Entry> listed = settledListing();
        assertThat(ids(listed)).containsExactlyInAnyOrderElementsOf(made);
        assertThat(listed).noneMatch(e -> e.getStatus().getVolumeCondition().getAbnormal());

        step("between the first and the second page: a volume created and one deleted further on, a record replaced");
        var first = driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(4).build());
        assertThat(ids(first.getEntriesList())).containsExactlyElementsOf(made.subList(0, 4));
        String added = create("pvc-settled-10a");
        driver.controller().deleteVolume(Provisioner.delete(made.get(9)));
        String replaced = made.get(6);
        replaceCapacity(replaced, MIB, 5 * MIB);
        List<String> rest = new ArrayList<>();
        String token = first.getNextToken();
        List<Csi.ListVolumesResponse.Entry> later = new ArrayList<>();
        while (!token.isEmpty()) {
            var page = driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(4)
                    .setStartingToken(token).build());
            later.addAll(page.getEntriesList());
            token = page.getNextToken();
        }
        rest.addAll(ids(later));
        List<String> expected = new ArrayList<>(made.subList(4, 12));
        expected.remove(made.get(9));
        expected.add(expected.indexOf(made.get(11)), added);
        assertThat(rest).containsExactlyElementsOf(expected);
        assertThat(entryOf(later, replaced).getVolume().getCapacityBytes()).isEqualTo(5 * MIB);

        step("settled again: a record replaced on the server by one of the same size is listed as it is now");
        settledListing();
        String other = made.get(2);
        replaceCapacity(other, MIB, 7 * MIB);
        assertThat(entryOf(all(), other).getVolume().getCapacityBytes()).isEqualTo(7 * MIB);

        step("settled again: a volume directory removed on the server is listed abnormal, by pages and whole");
        settledListing();
        String gone = made.get(3);
        Path dir = SHARE.resolve(gone.split("#")[3]);
        Files.delete(dir);
        var page = driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(5).build());
        assertThat(abnormal(page.getEntriesList(), gone)).isTrue();
        assertThat(abnormal(all(), gone)).isTrue();

        step("settled again: replaced by a file it stays abnormal; a directory made again makes it normal");
        settledListing();
        Files.writeString(dir, "not a directory");
        assertThat(abnormal(all(), gone)).isTrue();
        settledListing();
        Files.delete(dir);
        Files.createDirectory(dir);
        page = driver.controller().listVolumes(Csi.ListVolumesRequest.newBuilder().setMaxEntries(5).build());
        assertThat(abnormal(page.getEntriesList(), gone)).isFalse();

        step("clean up through the driver");
        for (String id : ids(all())) {
            driver.controller().deleteVolume(Provisioner.delete(id));
        }
        assertThat(all()).isEmpty();
    }

    /**
     * Replaces the volume's record on the server, as another replica's write lands (a new file renamed over it),
     * with its capacity changed from {@code from} to {@code to}: the same number of digits, so the same size.
     */
    static void replaceCapacity(String volumeId, long from, long to) throws Exception {
        String name = volumeId.split("#")[4];
        Path record = SHARE.resolve(".nfs-csi/volumes/" + name + ".properties");
        String text = Files.readString(record, StandardCharsets.UTF_8);
        assertThat(text).contains("capacityBytes=" + from);
        assertThat(Long.toString(to)).hasSameSizeAs(Long.toString(from));
        Path temp = record.resolveSibling("." + name + ".properties.replica.tmp");
        Files.writeString(temp, text.replace("capacityBytes=" + from, "capacityBytes=" + to));
        Files.move(temp, record, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
