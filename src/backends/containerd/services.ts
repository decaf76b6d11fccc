// The containerd services this backend calls, described once (paths from containerd's package names).
import { defineService } from "../../api/grpc/method.ts";
import { containerdPb } from "./pb/index.ts";

const { google } = containerdPb;
const services = containerdPb.containerd.services;
const content = services.content.v1;
const snapshots = services.snapshots.v1;
const leases = services.leases.v1;
const containers = services.containers.v1;
const tasks = services.tasks.v1;
const images = services.images.v1;

export const ContentService = defineService("containerd.services.content.v1.Content", {
  Info: ["unary", content.InfoRequest, content.InfoResponse],
  Update: ["unary", content.UpdateContentRequest, content.UpdateContentResponse],
  List: ["serverStream", content.ListContentRequest, content.ListContentResponse],
  Delete: ["unary", content.DeleteContentRequest, google.protobuf.Empty],
  Read: ["serverStream", content.ReadContentRequest, content.ReadContentResponse],
  Write: ["bidi", content.WriteContentRequest, content.WriteContentResponse],
  Abort: ["unary", content.AbortRequest, google.protobuf.Empty],
});

export const SnapshotsService = defineService("containerd.services.snapshots.v1.Snapshots", {
  Prepare: ["unary", snapshots.PrepareSnapshotRequest, snapshots.PrepareSnapshotResponse],
  View: ["unary", snapshots.ViewSnapshotRequest, snapshots.ViewSnapshotResponse],
  Mounts: ["unary", snapshots.MountsRequest, snapshots.MountsResponse],
  Commit: ["unary", snapshots.CommitSnapshotRequest, google.protobuf.Empty],
  Remove: ["unary", snapshots.RemoveSnapshotRequest, google.protobuf.Empty],
  Stat: ["unary", snapshots.StatSnapshotRequest, snapshots.StatSnapshotResponse],
  List: ["serverStream", snapshots.ListSnapshotsRequest, snapshots.ListSnapshotsResponse],
  Usage: ["unary", snapshots.UsageRequest, snapshots.UsageResponse],
});

export const LeasesService = defineService("containerd.services.leases.v1.Leases", {
  Create: ["unary", leases.CreateRequest, leases.CreateResponse],
  Delete: ["unary", leases.DeleteRequest, google.protobuf.Empty],
  List: ["unary", leases.ListRequest, leases.ListResponse],
  AddResource: ["unary", leases.AddResourceRequest, google.protobuf.Empty],
  DeleteResource: ["unary", leases.DeleteResourceRequest, google.protobuf.Empty],
  ListResources: ["unary", leases.ListResourcesRequest, leases.ListResourcesResponse],
});

export const ContainersService = defineService("containerd.services.containers.v1.Containers", {
  Get: ["unary", containers.GetContainerRequest, containers.GetContainerResponse],
  List: ["unary", containers.ListContainersRequest, containers.ListContainersResponse],
  Create: ["unary", containers.CreateContainerRequest, containers.CreateContainerResponse],
  Delete: ["unary", containers.DeleteContainerRequest, google.protobuf.Empty],
});

export const TasksService = defineService("containerd.services.tasks.v1.Tasks", {
  Create: ["unary", tasks.CreateTaskRequest, tasks.CreateTaskResponse],
  Start: ["unary", tasks.StartRequest, tasks.StartResponse],
  Delete: ["unary", tasks.DeleteTaskRequest, tasks.DeleteResponse],
  Kill: ["unary", tasks.KillRequest, google.protobuf.Empty],
  Wait: ["unary", tasks.WaitRequest, tasks.WaitResponse],
  CloseIO: ["unary", tasks.CloseIORequest, google.protobuf.Empty],
});

export const ImagesService = defineService("containerd.services.images.v1.Images", {
  Get: ["unary", images.GetImageRequest, images.GetImageResponse],
  Create: ["unary", images.CreateImageRequest, images.CreateImageResponse],
  Update: ["unary", images.UpdateImageRequest, images.UpdateImageResponse],
  Delete: ["unary", images.DeleteImageRequest, google.protobuf.Empty],
});

export const VersionService = defineService("containerd.services.version.v1.Version", {
  Version: ["unary", google.protobuf.Empty, services.version.v1.VersionResponse],
});
