package io.nfscsi.proto;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.GeneratedMessage.GeneratedExtension;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.csi.v1.NodeGrpc;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks the compiled {@code csi.proto} against tables of facts taken from the CSI specification
 * v1.12.0: services and methods, field numbers, names and types, enum values, {@code csi_secret}
 * placement, alpha markers and the custom option extension numbers.
 */
class CsiProtoDescriptorTest {

  private static final FileDescriptor FILE = Csi.getDescriptor();

  // ------------------------------------------------------------------ services and methods

  /** service, method, request type, response type, server streaming. */
  record SpecMethod(String service, String method, String request, String response, boolean streaming) {}

  private static final List<SpecMethod> SPEC_METHODS = List.of(
      unary("Identity", "GetPluginInfo"),
      unary("Identity", "GetPluginCapabilities"),
      unary("Identity", "Probe"),
      unary("Controller", "CreateVolume"),
      unary("Controller", "DeleteVolume"),
      unary("Controller", "ControllerPublishVolume"),
      unary("Controller", "ControllerUnpublishVolume"),
      unary("Controller", "ValidateVolumeCapabilities"),
      unary("Controller", "ListVolumes"),
      unary("Controller", "GetCapacity"),
      unary("Controller", "ControllerGetCapabilities"),
      unary("Controller", "CreateSnapshot"),
      unary("Controller", "DeleteSnapshot"),
      unary("Controller", "ListSnapshots"),
      unary("Controller", "GetSnapshot"),
      unary("Controller", "ControllerExpandVolume"),
      unary("Controller", "ControllerGetVolume"),
      unary("Controller", "ControllerModifyVolume"),
      unary("GroupController", "GroupControllerGetCapabilities"),
      unary("GroupController", "CreateVolumeGroupSnapshot"),
      unary("GroupController", "DeleteVolumeGroupSnapshot"),
      unary("GroupController", "GetVolumeGroupSnapshot"),
      new SpecMethod("SnapshotMetadata", "GetMetadataAllocated",
          "GetMetadataAllocatedRequest", "GetMetadataAllocatedResponse", true),
      new SpecMethod("SnapshotMetadata", "GetMetadataDelta",
          "GetMetadataDeltaRequest", "GetMetadataDeltaResponse", true),
      unary("Node", "NodeStageVolume"),
      unary("Node", "NodeUnstageVolume"),
      unary("Node", "NodePublishVolume"),
      unary("Node", "NodeUnpublishVolume"),
      unary("Node", "NodeGetVolumeStats"),
      unary("Node", "NodeExpandVolume"),
      unary("Node", "NodeGetCapabilities"),
      unary("Node", "NodeGetInfo"));

  /** In CSI every unary method X takes XRequest and returns XResponse. */
  private static SpecMethod unary(String service, String method) {
    return new SpecMethod(service, method, method + "Request", method + "Response", false);
  }

  static Stream<SpecMethod> specMethods() {
    return SPEC_METHODS.stream();
  }

  @Test
  void descriptor_declaresPackageCsiV1WithTheFiveSpecServices() {
    assertThat(FILE.getPackage()).isEqualTo("csi.v1");
    assertThat(FILE.getServices()).extracting(ServiceDescriptor::getName)
        .containsExactly("Identity", "Controller", "GroupController", "SnapshotMetadata", "Node");
  }

  @Test
  void descriptor_hasEverySpecMethod() {
    assertThat(actualMethodPairs())
        .containsAll(SPEC_METHODS.stream().map(m -> m.service() + "/" + m.method()).toList());
  }

  @Test
  void descriptor_hasNoMethodBeyondTheSpec() {
    assertThat(actualMethodPairs())
        .containsExactlyInAnyOrderElementsOf(
            SPEC_METHODS.stream().map(m -> m.service() + "/" + m.method()).toList());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specMethods")
  void method_usesSpecRequestAndResponseTypes(SpecMethod spec) {
    MethodDescriptor method = FILE.findServiceByName(spec.service()).findMethodByName(spec.method());

    assertThat(method).as(spec.service() + "/" + spec.method()).isNotNull();
    assertThat(method.getInputType().getFullName()).isEqualTo("csi.v1." + spec.request());
    assertThat(method.getOutputType().getFullName()).isEqualTo("csi.v1." + spec.response());
    assertThat(method.isServerStreaming()).isEqualTo(spec.streaming());
    assertThat(method.isClientStreaming()).isFalse();
  }

  @Test
  void grpcStubs_useSpecFullMethodNames() {
    assertThat(IdentityGrpc.getProbeMethod().getFullMethodName()).isEqualTo("csi.v1.Identity/Probe");
    assertThat(ControllerGrpc.getCreateVolumeMethod().getFullMethodName())
        .isEqualTo("csi.v1.Controller/CreateVolume");
    assertThat(NodeGrpc.getNodePublishVolumeMethod().getFullMethodName())
        .isEqualTo("csi.v1.Node/NodePublishVolume");
    assertThat(NodeGrpc.SERVICE_NAME).isEqualTo("csi.v1.Node");
  }

  private static List<String> actualMethodPairs() {
    List<String> pairs = new ArrayList<>();
    for (ServiceDescriptor service : FILE.getServices()) {
      for (MethodDescriptor method : service.getMethods()) {
        pairs.add(service.getName() + "/" + method.getName());
      }
    }
    return pairs;
  }

  // --------------------------------------------------------------------------- messages

  /**
   * Message (nested names joined with '.') and its fields in declaration order as
   * "number name type"; type is "map", a scalar name, or a message/enum name relative to
   * csi.v1, prefixed with "repeated " for repeated non-map fields.
   */
  static Stream<Arguments> specMessages() {
    return Stream.of(
        // Identity
        msg("GetPluginInfoRequest", ""),
        msg("GetPluginInfoResponse", "1 name string, 2 vendor_version string, 3 manifest map"),
        msg("GetPluginCapabilitiesRequest", ""),
        msg("GetPluginCapabilitiesResponse", "1 capabilities repeated PluginCapability"),
        msg("PluginCapability",
            "1 service PluginCapability.Service, 2 volume_expansion PluginCapability.VolumeExpansion"),
        msg("PluginCapability.Service", "1 type PluginCapability.Service.Type"),
        msg("PluginCapability.VolumeExpansion", "1 type PluginCapability.VolumeExpansion.Type"),
        msg("ProbeRequest", ""),
        msg("ProbeResponse", "1 ready google.protobuf.BoolValue"),
        // Node
        msg("NodePublishVolumeRequest",
            "1 volume_id string, 2 publish_context map, 3 staging_target_path string,"
                + " 4 target_path string, 5 volume_capability VolumeCapability, 6 readonly bool,"
                + " 7 secrets map, 8 volume_context map"),
        msg("NodePublishVolumeResponse", ""),
        msg("NodeUnpublishVolumeRequest", "1 volume_id string, 2 target_path string"),
        msg("NodeUnpublishVolumeResponse", ""),
        msg("NodeGetVolumeStatsRequest",
            "1 volume_id string, 2 volume_path string, 3 staging_target_path string"),
        msg("NodeGetVolumeStatsResponse",
            "1 usage repeated VolumeUsage, 2 volume_condition VolumeCondition"),
        msg("NodeGetInfoRequest", ""),
        msg("NodeGetInfoResponse",
            "1 node_id string, 2 max_volumes_per_node int64, 3 accessible_topology Topology"),
        msg("NodeGetCapabilitiesRequest", ""),
        msg("NodeGetCapabilitiesResponse", "1 capabilities repeated NodeServiceCapability"),
        msg("NodeServiceCapability", "1 rpc NodeServiceCapability.RPC"),
        msg("NodeServiceCapability.RPC", "1 type NodeServiceCapability.RPC.Type"),
        msg("VolumeUsage", "1 available int64, 2 total int64, 3 used int64, 4 unit VolumeUsage.Unit"),
        msg("VolumeCondition", "1 abnormal bool, 2 message string"),
        msg("VolumeCapability",
            "1 block VolumeCapability.BlockVolume, 2 mount VolumeCapability.MountVolume,"
                + " 3 access_mode VolumeCapability.AccessMode"),
        msg("VolumeCapability.BlockVolume", ""),
        msg("VolumeCapability.MountVolume",
            "1 fs_type string, 2 mount_flags repeated string, 3 volume_mount_group string"),
        msg("VolumeCapability.AccessMode", "1 mode VolumeCapability.AccessMode.Mode"),
        // Controller
        msg("CreateVolumeRequest",
            "1 name string, 2 capacity_range CapacityRange, 3 volume_capabilities repeated VolumeCapability,"
                + " 4 parameters map, 5 secrets map, 6 volume_content_source VolumeContentSource,"
                + " 7 accessibility_requirements TopologyRequirement,"
                + " 8 mutable_parameters repeated CreateVolumeRequest.MutableParametersEntry"),
        msg("CreateVolumeResponse", "1 volume Volume"),
        msg("DeleteVolumeRequest", "1 volume_id string, 2 secrets map"),
        msg("DeleteVolumeResponse", ""),
        msg("ValidateVolumeCapabilitiesRequest",
            "1 volume_id string, 2 volume_context map, 3 volume_capabilities repeated VolumeCapability,"
                + " 4 parameters map, 5 secrets map,"
                + " 6 mutable_parameters repeated ValidateVolumeCapabilitiesRequest.MutableParametersEntry"),
        msg("ValidateVolumeCapabilitiesResponse",
            "1 confirmed ValidateVolumeCapabilitiesResponse.Confirmed, 2 message string"),
        msg("ValidateVolumeCapabilitiesResponse.Confirmed",
            "1 volume_context map, 2 volume_capabilities repeated VolumeCapability, 3 parameters map,"
                + " 4 mutable_parameters repeated"
                + " ValidateVolumeCapabilitiesResponse.Confirmed.MutableParametersEntry"),
        msg("ListVolumesRequest", "1 max_entries int32, 2 starting_token string"),
        msg("ListVolumesResponse", "1 entries repeated ListVolumesResponse.Entry, 2 next_token string"),
        msg("ListVolumesResponse.Entry", "1 volume Volume, 2 status ListVolumesResponse.VolumeStatus"),
        msg("ListVolumesResponse.VolumeStatus",
            "1 published_node_ids repeated string, 2 volume_condition VolumeCondition"),
        msg("ControllerGetVolumeRequest", "1 volume_id string"),
        msg("ControllerGetVolumeResponse",
            "1 volume Volume, 2 status ControllerGetVolumeResponse.VolumeStatus"),
        msg("ControllerGetVolumeResponse.VolumeStatus",
            "1 published_node_ids repeated string, 2 volume_condition VolumeCondition"),
        msg("ControllerExpandVolumeRequest",
            "1 volume_id string, 2 capacity_range CapacityRange, 3 secrets map,"
                + " 4 volume_capability VolumeCapability"),
        msg("ControllerExpandVolumeResponse", "1 capacity_bytes int64, 2 node_expansion_required bool"),
        msg("GetCapacityRequest",
            "1 volume_capabilities repeated VolumeCapability, 2 parameters map, 3 accessible_topology Topology"),
        msg("GetCapacityResponse",
            "1 available_capacity int64, 2 maximum_volume_size google.protobuf.Int64Value,"
                + " 3 minimum_volume_size google.protobuf.Int64Value"),
        msg("ControllerGetCapabilitiesRequest", ""),
        msg("ControllerGetCapabilitiesResponse", "1 capabilities repeated ControllerServiceCapability"),
        msg("ControllerServiceCapability", "1 rpc ControllerServiceCapability.RPC"),
        msg("ControllerServiceCapability.RPC", "1 type ControllerServiceCapability.RPC.Type"),
        msg("Volume",
            "1 capacity_bytes int64, 2 volume_id string, 3 volume_context map,"
                + " 4 content_source VolumeContentSource, 5 accessible_topology repeated Topology"),
        msg("VolumeContentSource",
            "1 snapshot VolumeContentSource.SnapshotSource, 2 volume VolumeContentSource.VolumeSource"),
        msg("VolumeContentSource.SnapshotSource", "1 snapshot_id string"),
        msg("VolumeContentSource.VolumeSource", "1 volume_id string"),
        msg("Topology", "1 segments map"),
        msg("TopologyRequirement", "1 requisite repeated Topology, 2 preferred repeated Topology"),
        msg("CapacityRange", "1 required_bytes int64, 2 limit_bytes int64"),
        msg("Snapshot",
            "1 size_bytes int64, 2 snapshot_id string, 3 source_volume_id string,"
                + " 4 creation_time google.protobuf.Timestamp, 5 ready_to_use bool,"
                + " 6 group_snapshot_id string"),
        msg("CreateSnapshotRequest",
            "1 source_volume_id string, 2 name string, 3 secrets map, 4 parameters map"),
        msg("CreateSnapshotResponse", "1 snapshot Snapshot"),
        msg("DeleteSnapshotRequest", "1 snapshot_id string, 2 secrets map"),
        msg("DeleteSnapshotResponse", ""),
        msg("ListSnapshotsRequest",
            "1 max_entries int32, 2 starting_token string, 3 source_volume_id string,"
                + " 4 snapshot_id string, 5 secrets map"),
        msg("ListSnapshotsResponse", "1 entries repeated ListSnapshotsResponse.Entry, 2 next_token string"),
        msg("ListSnapshotsResponse.Entry", "1 snapshot Snapshot"),
        msg("GetSnapshotRequest", "1 snapshot_id string, 2 secrets map"),
        msg("GetSnapshotResponse", "1 snapshot Snapshot"));
  }

  private static Arguments msg(String name, String fields) {
    return Arguments.of(name, fields);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specMessages")
  void message_hasSpecFieldNumbersNamesAndTypes(String message, String specFields) {
    Descriptor descriptor = message(message);
    List<String> expected = specFields.isEmpty()
        ? List.of()
        : Arrays.stream(specFields.split(",")).map(String::strip).toList();

    assertThat(descriptor.getFields()).extracting(CsiProtoDescriptorTest::render)
        .containsExactlyElementsOf(expected);
  }

  @Test
  void oneofs_groupTheSpecFields() {
    assertThat(oneof("PluginCapability", "type")).containsExactly("service", "volume_expansion");
    assertThat(oneof("VolumeCapability", "access_type")).containsExactly("block", "mount");
    assertThat(oneof("VolumeContentSource", "type")).containsExactly("snapshot", "volume");
    assertThat(oneof("ControllerServiceCapability", "type")).containsExactly("rpc");
    assertThat(oneof("NodeServiceCapability", "type")).containsExactly("rpc");
    assertThat(message("VolumeCapability").findFieldByName("access_mode").getRealContainingOneof())
        .isNull();
  }

  /**
   * Where {@code parameters} and {@code mutable_parameters} meet, the latter is a repeated
   * key/value entry (protoc's Java maps would clash); on the wire that is exactly a map entry.
   */
  @Test
  void mutableParameters_encodeExactlyLikeMapEntries() {
    byte[] asMap = Csi.CreateVolumeRequest.newBuilder()
        .putParameters("server", "nfs.example")
        .build().toByteArray();
    byte[] asEntry = Csi.CreateVolumeRequest.newBuilder()
        .addMutableParameters(Csi.CreateVolumeRequest.MutableParametersEntry.newBuilder()
            .setKey("server").setValue("nfs.example"))
        .build().toByteArray();

    // Same bytes except the field tag: field 4 (0x22) versus field 8 (0x42), both length-delimited.
    assertThat(asMap[0]).isEqualTo((byte) 0x22);
    assertThat(asEntry[0]).isEqualTo((byte) 0x42);
    assertThat(Arrays.copyOfRange(asEntry, 1, asEntry.length))
        .isEqualTo(Arrays.copyOfRange(asMap, 1, asMap.length));
    for (String owner : List.of("CreateVolumeRequest", "ValidateVolumeCapabilitiesRequest",
        "ValidateVolumeCapabilitiesResponse.Confirmed")) {
      Descriptor entry = message(owner + ".MutableParametersEntry");
      assertThat(entry.getFields()).extracting(CsiProtoDescriptorTest::render)
          .as(owner).containsExactly("1 key string", "2 value string");
    }
    assertThat(message("ControllerModifyVolumeRequest").findFieldByName("mutable_parameters")
        .isMapField()).isTrue();
  }

  // ------------------------------------------------------------------------------ enums

  static Stream<Arguments> specEnums() {
    return Stream.of(
        Arguments.of("PluginCapability.Service.Type",
            "0 UNKNOWN, 1 CONTROLLER_SERVICE, 2 VOLUME_ACCESSIBILITY_CONSTRAINTS,"
                + " 3 GROUP_CONTROLLER_SERVICE, 4 SNAPSHOT_METADATA_SERVICE"),
        Arguments.of("PluginCapability.VolumeExpansion.Type", "0 UNKNOWN, 1 ONLINE, 2 OFFLINE"),
        Arguments.of("VolumeCapability.AccessMode.Mode",
            "0 UNKNOWN, 1 SINGLE_NODE_WRITER, 2 SINGLE_NODE_READER_ONLY, 3 MULTI_NODE_READER_ONLY,"
                + " 4 MULTI_NODE_SINGLE_WRITER, 5 MULTI_NODE_MULTI_WRITER,"
                + " 6 SINGLE_NODE_SINGLE_WRITER, 7 SINGLE_NODE_MULTI_WRITER"),
        Arguments.of("ControllerServiceCapability.RPC.Type",
            "0 UNKNOWN, 1 CREATE_DELETE_VOLUME, 2 PUBLISH_UNPUBLISH_VOLUME, 3 LIST_VOLUMES,"
                + " 4 GET_CAPACITY, 5 CREATE_DELETE_SNAPSHOT, 6 LIST_SNAPSHOTS, 7 CLONE_VOLUME,"
                + " 8 PUBLISH_READONLY, 9 EXPAND_VOLUME, 10 LIST_VOLUMES_PUBLISHED_NODES,"
                + " 11 VOLUME_CONDITION, 12 GET_VOLUME, 13 SINGLE_NODE_MULTI_WRITER,"
                + " 14 MODIFY_VOLUME, 15 GET_SNAPSHOT"),
        Arguments.of("NodeServiceCapability.RPC.Type",
            "0 UNKNOWN, 1 STAGE_UNSTAGE_VOLUME, 2 GET_VOLUME_STATS, 3 EXPAND_VOLUME,"
                + " 4 VOLUME_CONDITION, 5 SINGLE_NODE_MULTI_WRITER, 6 VOLUME_MOUNT_GROUP"),
        Arguments.of("VolumeUsage.Unit", "0 UNKNOWN, 1 BYTES, 2 INODES"),
        Arguments.of("GroupControllerServiceCapability.RPC.Type",
            "0 UNKNOWN, 1 CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT"),
        Arguments.of("BlockMetadataType", "0 UNKNOWN, 1 FIXED_LENGTH, 2 VARIABLE_LENGTH"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specEnums")
  void enum_hasSpecValues(String enumName, String specValues) {
    List<String> expected = Arrays.stream(specValues.split(",")).map(String::strip).toList();

    assertThat(enumType(enumName).getValues()).extracting(v -> v.getNumber() + " " + v.getName())
        .containsExactlyElementsOf(expected);
  }

  // ------------------------------------------------------------------------- csi_secret

  /** Every field the specification marks with {@code (csi_secret) = true}. */
  private static final Set<String> SPEC_SECRET_FIELDS = Set.of(
      "CreateVolumeRequest.secrets",
      "DeleteVolumeRequest.secrets",
      "ControllerPublishVolumeRequest.secrets",
      "ControllerUnpublishVolumeRequest.secrets",
      "ValidateVolumeCapabilitiesRequest.secrets",
      "ControllerModifyVolumeRequest.secrets",
      "CreateSnapshotRequest.secrets",
      "DeleteSnapshotRequest.secrets",
      "ListSnapshotsRequest.secrets",
      "GetSnapshotRequest.secrets",
      "ControllerExpandVolumeRequest.secrets",
      "NodeStageVolumeRequest.secrets",
      "NodePublishVolumeRequest.secrets",
      "NodeExpandVolumeRequest.secrets",
      "CreateVolumeGroupSnapshotRequest.secrets",
      "DeleteVolumeGroupSnapshotRequest.secrets",
      "GetVolumeGroupSnapshotRequest.secrets",
      "GetMetadataAllocatedRequest.secrets",
      "GetMetadataDeltaRequest.secrets");

  static Stream<String> specSecretFields() {
    return SPEC_SECRET_FIELDS.stream().sorted();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specSecretFields")
  void csiSecret_marksEverySpecSecretField(String field) {
    int dot = field.lastIndexOf('.');
    FieldDescriptor descriptor = message(field.substring(0, dot)).findFieldByName(field.substring(dot + 1));

    assertThat(descriptor).as(field).isNotNull();
    assertThat(descriptor.getOptions().getExtension(Csi.csiSecret)).as(field).isTrue();
  }

  @Test
  void csiSecret_marksNoOtherField() {
    Set<String> marked = allFields().stream()
        .filter(f -> f.getOptions().getExtension(Csi.csiSecret))
        .map(CsiProtoDescriptorTest::relativeName)
        .collect(Collectors.toSet());

    assertThat(marked).containsExactlyInAnyOrderElementsOf(SPEC_SECRET_FIELDS);
  }

  // ----------------------------------------------------------------------- alpha markers

  @Test
  void alphaOptions_markExactlyTheSpecAlphaElements() {
    assertThat(FILE.getServices().stream()
        .filter(s -> s.getOptions().getExtension(Csi.alphaService)).map(ServiceDescriptor::getName))
        .containsExactly("SnapshotMetadata");
    assertThat(FILE.getServices().stream().flatMap(s -> s.getMethods().stream())
        .filter(m -> m.getOptions().getExtension(Csi.alphaMethod)).map(MethodDescriptor::getFullName))
        .containsExactlyInAnyOrder("csi.v1.Controller.GetSnapshot", "csi.v1.Controller.ControllerGetVolume");
    assertThat(allMessages().stream()
        .filter(m -> m.getOptions().getExtension(Csi.alphaMessage)).map(CsiProtoDescriptorTest::relativeName))
        .containsExactlyInAnyOrder("ControllerGetVolumeRequest", "ControllerGetVolumeResponse",
            "GetSnapshotRequest", "GetSnapshotResponse", "VolumeCondition");
    assertThat(allFields().stream()
        .filter(f -> f.getOptions().getExtension(Csi.alphaField)).map(CsiProtoDescriptorTest::relativeName))
        .containsExactlyInAnyOrder("ListVolumesResponse.VolumeStatus.volume_condition",
            "GetCapacityResponse.minimum_volume_size", "NodeGetVolumeStatsResponse.volume_condition",
            "NodeExpandVolumeRequest.secrets");
    assertThat(allEnums().stream().filter(e -> e.getOptions().getExtension(Csi.alphaEnum))).isEmpty();
    assertThat(allEnums().stream().flatMap(e -> e.getValues().stream())
        .filter(v -> v.getOptions().getExtension(Csi.alphaEnumValue))
        .map(v -> relativeName(v.getType()) + "." + v.getName()))
        .containsExactlyInAnyOrder(
            "PluginCapability.Service.Type.SNAPSHOT_METADATA_SERVICE",
            "VolumeCapability.AccessMode.Mode.SINGLE_NODE_SINGLE_WRITER",
            "VolumeCapability.AccessMode.Mode.SINGLE_NODE_MULTI_WRITER",
            "ControllerServiceCapability.RPC.Type.VOLUME_CONDITION",
            "ControllerServiceCapability.RPC.Type.GET_VOLUME",
            "ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER",
            "ControllerServiceCapability.RPC.Type.GET_SNAPSHOT",
            "NodeServiceCapability.RPC.Type.VOLUME_CONDITION",
            "NodeServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER");
  }

  // -------------------------------------------------------------- option extension numbers

  static Stream<Arguments> specExtensions() {
    return Stream.of(
        Arguments.of(Csi.csiSecret, "csi_secret", 1059, DescriptorProtos.FieldOptions.getDescriptor()),
        Arguments.of(Csi.alphaField, "alpha_field", 1060, DescriptorProtos.FieldOptions.getDescriptor()),
        Arguments.of(Csi.alphaEnum, "alpha_enum", 1060, DescriptorProtos.EnumOptions.getDescriptor()),
        Arguments.of(Csi.alphaEnumValue, "alpha_enum_value", 1060,
            DescriptorProtos.EnumValueOptions.getDescriptor()),
        Arguments.of(Csi.alphaMessage, "alpha_message", 1060,
            DescriptorProtos.MessageOptions.getDescriptor()),
        Arguments.of(Csi.alphaMethod, "alpha_method", 1060, DescriptorProtos.MethodOptions.getDescriptor()),
        Arguments.of(Csi.alphaService, "alpha_service", 1060,
            DescriptorProtos.ServiceOptions.getDescriptor()));
  }

  @ParameterizedTest(name = "{1} = {2}")
  @MethodSource("specExtensions")
  void customOptions_useSpecExtensionNumbers(
      GeneratedExtension<?, ?> extension, String name, int number, Descriptor extendee) {
    FieldDescriptor field = extension.getDescriptor();

    assertThat(field.getFullName()).isEqualTo("csi.v1." + name);
    assertThat(field.getNumber()).isEqualTo(number);
    assertThat(field.getContainingType()).isEqualTo(extendee);
    assertThat(field.getType()).isEqualTo(FieldDescriptor.Type.BOOL);
  }

  @Test
  void customOptions_areTheOnlyExtensionsInTheFile() {
    assertThat(FILE.getExtensions()).extracting(FieldDescriptor::getName)
        .containsExactlyInAnyOrder("csi_secret", "alpha_field", "alpha_enum", "alpha_enum_value",
            "alpha_message", "alpha_method", "alpha_service");
  }

  // ---------------------------------------------------------------------------- helpers

  private static Descriptor message(String relativeName) {
    String[] parts = relativeName.split("\\.");
    Descriptor descriptor = FILE.findMessageTypeByName(parts[0]);
    for (int i = 1; i < parts.length && descriptor != null; i++) {
      descriptor = descriptor.findNestedTypeByName(parts[i]);
    }
    assertThat(descriptor).as("message " + relativeName).isNotNull();
    return descriptor;
  }

  private static EnumDescriptor enumType(String relativeName) {
    int dot = relativeName.lastIndexOf('.');
    EnumDescriptor descriptor = dot < 0
        ? FILE.findEnumTypeByName(relativeName)
        : message(relativeName.substring(0, dot)).findEnumTypeByName(relativeName.substring(dot + 1));
    assertThat(descriptor).as("enum " + relativeName).isNotNull();
    return descriptor;
  }

  private static List<String> oneof(String message, String oneof) {
    return message(message).getRealOneofs().stream()
        .filter(o -> o.getName().equals(oneof))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no oneof " + message + "." + oneof))
        .getFields().stream().map(FieldDescriptor::getName).toList();
  }

  private static String render(FieldDescriptor field) {
    String type;
    if (field.isMapField()) {
      type = "map";
    } else {
      type = switch (field.getJavaType()) {
        case MESSAGE -> relativeName(field.getMessageType());
        case ENUM -> relativeName(field.getEnumType());
        default -> field.getType().name().toLowerCase(java.util.Locale.ROOT);
      };
      if (field.isRepeated()) {
        type = "repeated " + type;
      }
    }
    return field.getNumber() + " " + field.getName() + " " + type;
  }

  private static String relativeName(Descriptor message) {
    return stripPackage(message.getFullName());
  }

  private static String relativeName(EnumDescriptor enumType) {
    return stripPackage(enumType.getFullName());
  }

  private static String relativeName(FieldDescriptor field) {
    return stripPackage(field.getFullName());
  }

  private static String stripPackage(String fullName) {
    return fullName.startsWith("csi.v1.") ? fullName.substring("csi.v1.".length()) : fullName;
  }

  private static List<Descriptor> allMessages() {
    List<Descriptor> all = new ArrayList<>();
    FILE.getMessageTypes().forEach(m -> collect(m, all));
    return all;
  }

  private static void collect(Descriptor message, List<Descriptor> into) {
    into.add(message);
    message.getNestedTypes().forEach(n -> collect(n, into));
  }

  private static List<FieldDescriptor> allFields() {
    return allMessages().stream().flatMap(m -> m.getFields().stream()).toList();
  }

  private static List<EnumDescriptor> allEnums() {
    Set<EnumDescriptor> all = new LinkedHashSet<>(FILE.getEnumTypes());
    allMessages().forEach(m -> all.addAll(m.getEnumTypes()));
    return List.copyOf(all);
  }
}
