package io.nfscsi.deploy;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;

/**
 * The Prometheus Operator's ServiceMonitor and PodMonitor (monitoring.coreos.com/v1), reduced to the fields the
 * manifests use, with the Operator's field names. The fabric8 model of these CRDs is not a dependency of the
 * project; with these classes {@link KubeYaml} still parses the monitors strictly: a field that is not one of these
 * (a misspelt {@code podMetricsEndpoint}, an {@code endpoints} in a PodMonitor) fails.
 */
final class Monitors {

    private Monitors() {
    }

    /** One scrape target: a named port (a Service's for a ServiceMonitor, a container's for a PodMonitor). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonAutoDetect(fieldVisibility = Visibility.ANY, getterVisibility = Visibility.NONE,
            isGetterVisibility = Visibility.NONE, setterVisibility = Visibility.NONE)
    static final class Endpoint {
        String port;
        String path;
        String interval;

        String port() {
            return port;
        }

        String path() {
            return path;
        }

        String interval() {
            return interval;
        }
    }

    /** The fields common to both kinds; each kind's spec adds its list of endpoints. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonAutoDetect(fieldVisibility = Visibility.ANY, getterVisibility = Visibility.NONE,
            isGetterVisibility = Visibility.NONE, setterVisibility = Visibility.NONE)
    abstract static class Monitor<S> implements HasMetadata {
        String apiVersion;
        String kind;
        ObjectMeta metadata;
        S spec;

        @Override
        public ObjectMeta getMetadata() {
            return metadata;
        }

        @Override
        public void setMetadata(ObjectMeta metadata) {
            this.metadata = metadata;
        }

        @Override
        public String getApiVersion() {
            return apiVersion;
        }

        @Override
        public void setApiVersion(String apiVersion) {
            this.apiVersion = apiVersion;
        }

        @Override
        public String getKind() {
            return kind;
        }

        S spec() {
            return spec;
        }

        abstract LabelSelector selector();

        abstract List<Endpoint> endpoints();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonAutoDetect(fieldVisibility = Visibility.ANY, getterVisibility = Visibility.NONE,
            isGetterVisibility = Visibility.NONE, setterVisibility = Visibility.NONE)
    static final class ServiceMonitorSpec {
        LabelSelector selector;
        List<Endpoint> endpoints;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonAutoDetect(fieldVisibility = Visibility.ANY, getterVisibility = Visibility.NONE,
            isGetterVisibility = Visibility.NONE, setterVisibility = Visibility.NONE)
    static final class PodMonitorSpec {
        LabelSelector selector;
        List<Endpoint> podMetricsEndpoints;
    }

    /**
     * Scrapes the endpoints of the Services that {@code selector} picks, by Service port name. Deserialized as a
     * plain bean: HasMetadata's own deserializer would make a GenericKubernetesResource of an unknown kind.
     */
    @JsonDeserialize(using = JsonDeserializer.None.class)
    static final class ServiceMonitor extends Monitor<ServiceMonitorSpec> {
        @Override
        LabelSelector selector() {
            return spec.selector;
        }

        @Override
        List<Endpoint> endpoints() {
            return spec.endpoints;
        }
    }

    /** Scrapes the pods that {@code selector} picks, by container port name. */
    @JsonDeserialize(using = JsonDeserializer.None.class)
    static final class PodMonitor extends Monitor<PodMonitorSpec> {
        @Override
        LabelSelector selector() {
            return spec.selector;
        }

        @Override
        List<Endpoint> endpoints() {
            return spec.podMetricsEndpoints;
        }
    }
}
