package io.nfscsi.deploy;

import static io.nfscsi.deploy.Workloads.DRIVER;
import static io.nfscsi.deploy.Workloads.container;
import static io.nfscsi.deploy.Workloads.requiredFlag;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.storage.CSIDriver;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The invariants whose violation breaks a real installation, checked on any render (the kustomize base and overlays,
 * the chart with any values): a driver name that differs between places, a sidecar that dials a socket its volume
 * does not hold, a registration path that is not where the socket is, mounts that do not propagate to the host, a
 * liveness probe that asks a port nobody listens on, JVM memory caps that do not fit the container's limit.
 */
final class DriverChecks {

    private DriverChecks() {
    }

    /**
     * The CSIDriver's name is the driver's --drivername in both pods, the directory of kubelet's registration path,
     * and every StorageClass's provisioner. Returns it.
     */
    static String driverNameIsTheSameEverywhere(List<HasMetadata> objects, String kubeletDir) {
        List<CSIDriver> drivers = Workloads.all(objects, CSIDriver.class);
        assertThat(drivers).as("CSIDriver objects").hasSize(1);
        String name = drivers.getFirst().getMetadata().getName();
        for (PodSpec pod : Workloads.pods(objects)) {
            assertThat(requiredFlag(container(pod, DRIVER), "drivername")).as("--drivername").isEqualTo(name);
        }
        Container registrar = container(Workloads.node(objects), "node-driver-registrar");
        assertThat(requiredFlag(registrar, "kubelet-registration-path")).as("--kubelet-registration-path")
                .isEqualTo(kubeletDir + "/plugins/" + name + "/csi.sock");
        for (StorageClass sc : Workloads.all(objects, StorageClass.class)) {
            assertThat(sc.getProvisioner()).as("provisioner of StorageClass %s", sc.getMetadata().getName())
                    .isEqualTo(name);
        }
        return name;
    }

    /**
     * In each pod, the driver listens on a unix socket in a volume that every other container mounts, and each
     * sidecar's --csi-address is that socket as seen through its own mount of the volume. In the node pod the
     * volume is the host directory kubelet is told about, so kubelet finds the socket there too.
     */
    static void everySidecarDialsTheDriversSocket(List<HasMetadata> objects) {
        for (PodSpec pod : Workloads.pods(objects)) {
            Container driver = container(pod, DRIVER);
            String endpoint = requiredFlag(driver, "endpoint");
            assertThat(endpoint).as("--endpoint").startsWith("unix:///");
            SocketLocation served = socketLocation(pod, driver, endpoint.substring("unix://".length()));
            for (Container sidecar : pod.getContainers()) {
                if (sidecar == driver) {
                    continue;
                }
                String address = requiredFlag(sidecar, "csi-address").replaceFirst("^unix://", "");
                assertThat(socketLocation(pod, sidecar, address)).as("%s --csi-address=%s", sidecar.getName(),
                        address).isEqualTo(served);
            }
        }
        PodSpec node = Workloads.node(objects);
        SocketLocation nodeSocket = socketLocation(node, container(node, DRIVER),
                requiredFlag(container(node, DRIVER), "endpoint").substring("unix://".length()));
        Volume socketDir = Workloads.volume(node, nodeSocket.volume());
        assertThat(socketDir.getHostPath()).as("the node's socket volume is a host directory").isNotNull();
        assertThat(socketDir.getHostPath().getType()).isEqualTo("DirectoryOrCreate");
        assertThat(socketDir.getHostPath().getPath() + "/" + nodeSocket.pathInVolume())
                .as("the socket's path on the host is the path registered with kubelet")
                .isEqualTo(requiredFlag(container(node, "node-driver-registrar"), "kubelet-registration-path"));
        PodSpec controller = Workloads.controller(objects);
        SocketLocation controllerSocket = socketLocation(controller, container(controller, DRIVER),
                requiredFlag(container(controller, DRIVER), "endpoint").substring("unix://".length()));
        assertThat(Workloads.volume(controller, controllerSocket.volume()).getEmptyDir())
                .as("the controller's socket lives in an emptyDir shared by its containers only").isNotNull();
    }

    /** Which volume holds a socket path seen from a container, and where in the volume it is. */
    record SocketLocation(String volume, String pathInVolume) {
    }

    private static SocketLocation socketLocation(PodSpec pod, Container c, String path) {
        VolumeMount mount = Workloads.mountHolding(c, path).orElseThrow(() -> new AssertionError(
                c.getName() + ": no volume holds " + path));
        assertThat(mount.getSubPath()).as("%s mounts a subPath", c.getName()).isNull();
        Workloads.volume(pod, mount.getName());
        return new SocketLocation(mount.getName(), path.substring(mount.getMountPath().length() + 1));
    }

    /**
     * The node's driver container mounts kubelet's pods directory at the same path as on the host, with
     * Bidirectional propagation (and so privileged), so that what it mounts below it reaches the pods. No other
     * container has Bidirectional propagation.
     */
    static void podsDirectoryIsBidirectional(List<HasMetadata> objects, String kubeletDir) {
        PodSpec node = Workloads.node(objects);
        Container driver = container(node, DRIVER);
        String podsDir = kubeletDir + "/pods";
        VolumeMount pods = driver.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(podsDir))
                .findFirst().orElseThrow(() -> new AssertionError("the node driver does not mount " + podsDir));
        assertThat(pods.getMountPropagation()).isEqualTo("Bidirectional");
        Volume volume = Workloads.volume(node, pods.getName());
        assertThat(volume.getHostPath()).isNotNull();
        assertThat(volume.getHostPath().getPath()).as("host path of %s", pods.getName()).isEqualTo(podsDir);
        assertThat(driver.getSecurityContext().getPrivileged()).as("Bidirectional requires privileged").isTrue();
        for (PodSpec pod : Workloads.pods(objects)) {
            for (Container c : pod.getContainers()) {
                for (VolumeMount m : c.getVolumeMounts()) {
                    if (c != driver || m != pods) {
                        assertThat(m.getMountPropagation()).as("%s %s", c.getName(), m.getMountPath())
                                .isNotEqualTo("Bidirectional");
                    }
                }
            }
        }
    }

    /**
     * The driver container's liveness probe asks /healthz where the livenessprobe sidecar serves it, and the two
     * pods, which share the node's network, use different ports. Each port is declared, so that the scheduler keeps
     * two pods that need it off one node. Returns the controller's and the node's port.
     */
    static List<Integer> livenessProbesReachLivenessprobe(List<HasMetadata> objects) {
        List<Integer> ports = new ArrayList<>();
        for (PodSpec pod : Workloads.pods(objects)) {
            assertThat(pod.getHostNetwork()).isTrue();
            Container probe = pod.getContainers().stream()
                    .filter(c -> Workloads.imageName(c).equals("livenessprobe")).findFirst()
                    .orElseThrow(() -> new AssertionError("no livenessprobe sidecar"));
            String endpoint = requiredFlag(probe, "http-endpoint");
            String host = endpoint.substring(0, endpoint.lastIndexOf(':'));
            int port = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
            HTTPGetAction get = container(pod, DRIVER).getLivenessProbe().getHttpGet();
            assertThat(get.getPath()).isEqualTo("/healthz");
            assertThat(get.getPort().getIntVal()).as("probe port").isEqualTo(port);
            assertThat(Objects.requireNonNullElse(get.getHost(), "")).as("probe host").isEqualTo(host);
            assertThat(probe.getPorts()).extracting(ContainerPort::getContainerPort).containsExactly(port);
            ports.add(port);
        }
        assertThat(ports.get(0)).as("controller and node health ports").isNotEqualTo(ports.get(1));
        return ports;
    }

    /**
     * node-driver-registrar puts its registration socket in /registration, which is kubelet's plugin registry on the
     * host: kubelet watches only that directory. It mounts nothing else but the driver's socket directory, once: the
     * "registration" marker file it wrote beside the registration path (for --mode=kubelet-registration-probe) went
     * with v2.9.0, and a second mount of the plugin directory for it would only widen what it can write.
     */
    static void registrarWritesToKubeletsRegistry(List<HasMetadata> objects, String kubeletDir) {
        PodSpec node = Workloads.node(objects);
        Container registrar = container(node, "node-driver-registrar");
        VolumeMount registration = Workloads.mountHolding(registrar, "/registration")
                .orElseThrow(() -> new AssertionError("node-driver-registrar does not mount /registration"));
        assertThat(registration.getMountPath()).isEqualTo("/registration");
        Volume volume = Workloads.volume(node, registration.getName());
        assertThat(volume.getHostPath()).isNotNull();
        assertThat(volume.getHostPath().getPath()).isEqualTo(kubeletDir + "/plugins_registry");
        String address = requiredFlag(registrar, "csi-address");
        VolumeMount socketDir = Workloads.mountHolding(registrar, address).orElseThrow();
        assertThat(registrar.getVolumeMounts()).as("the registrar's mounts: the socket directory once, the registry")
                .extracting(VolumeMount::getName).containsExactlyInAnyOrder(socketDir.getName(),
                        registration.getName());
    }

    /**
     * node-driver-registrar serves /healthz on the node's loopback (--http-endpoint), declares the port, and its
     * liveness probe asks it there; its --timeout leaves a JVM that has just started time to answer. Returns the
     * port.
     */
    static int registrarIsProbed(List<HasMetadata> objects) {
        Container registrar = container(Workloads.node(objects), "node-driver-registrar");
        String endpoint = requiredFlag(registrar, "http-endpoint");
        assertThat(endpoint).as("loopback only: the pod is on the node's network").startsWith("127.0.0.1:");
        int port = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
        HTTPGetAction get = registrar.getLivenessProbe().getHttpGet();
        assertThat(get.getPath()).isEqualTo("/healthz");
        assertThat(get.getHost()).isEqualTo("127.0.0.1");
        assertThat(get.getPort().getIntVal()).isEqualTo(port);
        assertThat(registrar.getPorts()).extracting(ContainerPort::getContainerPort).containsExactly(port);
        var probe = registrar.getLivenessProbe();
        assertThat(Duration.ofSeconds(probe.getInitialDelaySeconds()
                + (long) (probe.getFailureThreshold() - 1) * probe.getPeriodSeconds()))
                .as("the probe gives a starved driver's first answer (128 s from the start) time: /healthz opens then")
                .isGreaterThan(Duration.ofSeconds(128));
        assertThat(Workloads.flag(registrar, "health-port")).as("--health-port is deprecated").isEmpty();
        assertThat(KustomizeBaseTest.duration(requiredFlag(registrar, "timeout")))
                .as("--timeout is twice the slowest first answer measured from a starved JVM (36 s) or more")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(72));
        return port;
    }

    /** All of the above, for a render with the given kubelet directory. Returns the driver name. */
    static String all(List<HasMetadata> objects, String kubeletDir) {
        String name = driverNameIsTheSameEverywhere(objects, kubeletDir);
        everySidecarDialsTheDriversSocket(objects);
        podsDirectoryIsBidirectional(objects, kubeletDir);
        registrarWritesToKubeletsRegistry(objects, kubeletDir);
        registrarIsProbed(objects);
        livenessProbesReachLivenessprobe(objects);
        JvmMemory.fitTheContainers(objects);
        return name;
    }
}
