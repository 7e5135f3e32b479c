#!/usr/bin/env python3
"""xapi's AWS emulator: moto's server on loopback for the end-to-end tests and `xapi dev up --aws`.

One server holds every account: a caller switches account with STS AssumeRole (the account comes
from the role ARN), which is how ACK's CARM reaches accounts A and B.

Where moto accepts a call that AWS refuses, and the difference matters to xapi (the order in which
ACK objects reach AWS), a patch below restores AWS's behaviour: one patch per behaviour, each naming
the AWS document that states it. Patches only ever make the emulator refuse more, never accept more;
one records what AWS keeps and moto does not (the resource policy a deployment serves).

Besides moto's own routes it answers:
  POST /xapi/network   {"account", "region", "vpcId", "cidr", "subnets": [{"id", "cidr", "az"}]}
                       creates a VPC and subnets with the given IDs in that account: the network an
                       account already has, as the example names it (AWS assigns such IDs; moto
                       cannot be told them through its API).
  GET  /xapi/patches   the patches applied, as JSON.
  GET  /xapi/deployment-policies?account=&region=&restApiId=
                       deployment ID → the resource policy that deployment serves (see the patch
                       apigateway-deployment-snapshots-policy).
"""
import argparse
import json
import logging
import signal
import sys
import threading

try:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server
except ImportError as err:  # the Node side tries `pip install 'moto[server]'` and reports
    print(f"aws-emulator: moto[server] is not importable ({err})", file=sys.stderr)
    sys.exit(3)

PATCHES = []


def patch(name, restores, doc):
    """Registers a patch: `restores` says which AWS behaviour, `doc` where AWS documents it."""

    def register(apply):
        PATCHES.append({"name": name, "restores": restores, "doc": doc, "apply": apply})
        return apply

    return register


@patch(
    "apigateway-delete-deployment-in-use",
    "DeleteDeployment is refused while a stage points at the deployment "
    "(moto only checks the stage created together with the deployment)",
    "https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteDeployment.html",
)
def _delete_deployment_in_use():
    from moto.apigateway import models
    from moto.apigateway.exceptions import BadRequestException

    original = models.RestAPI.delete_deployment

    def delete_deployment(self, deployment_id):
        if any(s.deployment_id == deployment_id for s in self.stages.values()):
            raise BadRequestException("Active stages pointing to this deployment must be moved or deleted")
        return original(self, deployment_id)

    models.RestAPI.delete_deployment = delete_deployment


def around_create_deployment(check=None, record=None):
    """Wraps moto's CreateDeployment: `check(backend, api_id, api)` may refuse before it, and
    `record(api, deployment)` sees the deployment it made."""
    from moto.apigateway import models

    previous = models.APIGatewayBackend.create_deployment

    def create_deployment(self, function_id, name, description="", stage_variables=None):
        api = self.get_rest_api(function_id)
        if check:
            check(self, function_id, api)
        deployment = previous(self, function_id, name, description, stage_variables)
        if record:
            record(api, deployment)
        return deployment

    models.APIGatewayBackend.create_deployment = create_deployment


@patch(
    "apigateway-deployment-needs-every-integration",
    "CreateDeployment is refused while any method has no integration "
    "(moto only requires one integration somewhere in the API)",
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-deploy-api.html",
)
def _deployment_needs_integrations():
    from moto.apigateway.exceptions import BadRequestException

    def check(backend, api_id, _api):
        for resource in backend.get_resources(api_id):
            for method in resource.resource_methods.values():
                if not method.method_integration:
                    raise BadRequestException("No integration defined for method")

    around_create_deployment(check=check)


@patch(
    "apigateway-private-api-needs-policy",
    "CreateDeployment of a PRIVATE REST API is refused until the API has a resource policy",
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-api-create.html",
)
def _private_api_needs_policy():
    from moto.apigateway.exceptions import BadRequestException

    def check(_backend, _api_id, api):
        types = (api.endpoint_configuration or {}).get("types") or []
        if "PRIVATE" in types and not api.policy:
            raise BadRequestException("Private REST API doesn't have a resource policy attached to it")

    around_create_deployment(check=check)


@patch(
    "apigateway-deployment-snapshots-policy",
    "a deployment serves the resource policy the API had when the deployment was created; a later "
    "policy change takes effect only with a new deployment (moto keeps no snapshot: it is recorded "
    "here and read through GET /xapi/deployment-policies, since AWS exposes it through no API)",
    "https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-resource-policies-create-attach.html",
)
def _deployment_snapshots_policy():
    def record(api, deployment):
        deployment.xapi_policy = api.policy

    around_create_deployment(record=record)


def deployment_policies(query):
    """Deployment ID → the resource policy it serves (the API's when it was created), as stored."""
    from moto.apigateway.models import apigateway_backends

    api = apigateway_backends[query["account"]][query["region"]].get_rest_api(query["restApiId"])
    return {d.id: getattr(d, "xapi_policy", None) for d in api.deployments.values()}


@patch(
    "apigateway-get-integration-not-found",
    "GetIntegration of a method that has no integration answers NotFoundException "
    "(moto answers 200 with an empty body, which ACK reads as 'exists': its Integration then turns "
    "Terminal with 'Resource already exists', and a deleted one never goes away)",
    "https://docs.aws.amazon.com/apigateway/latest/api/API_GetIntegration.html",
)
def _get_integration_not_found():
    from moto.apigateway import models
    from moto.apigateway.exceptions import NotFoundException

    original = models.APIGatewayBackend.get_integration

    def get_integration(self, function_id, resource_id, method_type):
        integration = original(self, function_id, resource_id, method_type)
        if integration is None:
            raise NotFoundException("Invalid Integration identifier specified")
        return integration

    models.APIGatewayBackend.get_integration = get_integration


@patch(
    "apigateway-delete-integration-not-found",
    "DeleteIntegration of a method that has no integration answers NotFoundException (moto: HTTP 500)",
    "https://docs.aws.amazon.com/apigateway/latest/api/API_DeleteIntegration.html",
)
def _delete_integration_not_found():
    from moto.apigateway import models
    from moto.apigateway.exceptions import NotFoundException

    def delete_integration(self, function_id, resource_id, method_type):
        resource = self.get_resource(function_id, resource_id)
        method = resource.resource_methods.get(method_type)
        if method is None or method.method_integration is None:
            raise NotFoundException("Invalid Integration identifier specified")
        return resource.delete_integration(method_type)

    models.APIGatewayBackend.delete_integration = delete_integration


@patch(
    "apigateway-get-deployment-not-found",
    "GetDeployment of an unknown deployment answers NotFoundException (moto: HTTP 500, which ACK "
    "retries for ever, so a deleted Deployment never leaves Kubernetes)",
    "https://docs.aws.amazon.com/apigateway/latest/api/API_GetDeployment.html",
)
def _get_deployment_not_found():
    from moto.apigateway import models
    from moto.apigateway.exceptions import NotFoundException

    original = models.APIGatewayBackend.get_deployment

    def get_deployment(self, function_id, deployment_id):
        if deployment_id not in self.get_rest_api(function_id).deployments:
            raise NotFoundException("Invalid Deployment identifier specified")
        return original(self, function_id, deployment_id)

    models.APIGatewayBackend.get_deployment = get_deployment


@patch(
    "apigateway-stage-cache-status",
    "a stage without a cache cluster reports cacheClusterStatus NOT_AVAILABLE (moto leaves it out; "
    "ACK's Stage counts as synced only once the status is AVAILABLE or NOT_AVAILABLE)",
    "https://docs.aws.amazon.com/apigateway/latest/api/API_Stage.html",
)
def _stage_cache_status():
    from moto.apigateway import models

    original = models.Stage.to_json

    def to_json(self):
        out = original(self)
        out.setdefault("cacheClusterStatus", "AVAILABLE" if self.cache_cluster_enabled else "NOT_AVAILABLE")
        return out

    models.Stage.to_json = to_json


@patch(
    "iam-aws-managed-policies",
    "AWS managed policies (arn:aws:iam::aws:policy/...) exist in every account and can be attached "
    "(moto loads them only when MOTO_IAM_LOAD_MANAGED_POLICIES=true)",
    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies",
)
def _aws_managed_policies():
    import os

    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"


@patch(
    "ec2-delete-referenced-security-group",
    "DeleteSecurityGroup is refused with DependencyViolation while a rule of another group "
    "references the group (moto deletes it, after which the other group's rule can never be revoked)",
    "https://docs.aws.amazon.com/vpc/latest/userguide/deleting-security-groups.html",
)
def _delete_referenced_security_group():
    from moto.ec2.exceptions import DependencyViolationError
    from moto.ec2.models import security_groups

    original = security_groups.SecurityGroupBackend.delete_security_group

    def delete_security_group(self, name=None, group_id=None):
        target = self.get_security_group_from_id(group_id) if group_id else (self.get_security_group_by_name_or_id(name) if name else None)
        if target is not None:
            for groups in self.groups.values():
                for other in groups.values():
                    if other.id == target.id:
                        continue
                    for rule in [*other.ingress_rules, *other.egress_rules]:
                        if (rule.source_group or {}).get("GroupId") == target.id:
                            raise DependencyViolationError(f"resource {target.id} has a dependent object")
        return original(self, name=name, group_id=group_id)

    security_groups.SecurityGroupBackend.delete_security_group = delete_security_group


_fixture_lock = threading.Lock()


def create_network(spec):
    """A VPC and its subnets with the IDs the caller names (see the module docstring)."""
    from moto.ec2 import ec2_backends
    from moto.ec2.models import subnets as subnet_models
    from moto.ec2.models import vpcs as vpc_models

    backend = ec2_backends[spec["account"]][spec["region"]]
    with _fixture_lock:
        if spec["vpcId"] not in backend.vpcs:
            saved = vpc_models.random_vpc_id
            vpc_models.random_vpc_id = lambda: spec["vpcId"]
            try:
                vpc = backend.create_vpc(spec["cidr"])
            finally:
                vpc_models.random_vpc_id = saved
            # an interface endpoint with private DNS needs both (AWS refuses it otherwise)
            backend.modify_vpc_attribute(vpc.id, "enable_dns_support", True)
            backend.modify_vpc_attribute(vpc.id, "enable_dns_hostnames", True)
        existing = {s.id for s in backend.describe_subnets(filters={"vpc-id": [spec["vpcId"]]})}
        for s in spec.get("subnets", []):
            if s["id"] in existing:
                continue
            saved = subnet_models.random_subnet_id
            subnet_models.random_subnet_id = lambda sid=s["id"]: sid
            try:
                backend.create_subnet(spec["vpcId"], s["cidr"], availability_zone=s["az"])
            finally:
                subnet_models.random_subnet_id = saved
    return {"vpcId": spec["vpcId"], "subnets": [s["id"] for s in spec.get("subnets", [])]}


class XapiRoutes:
    """WSGI middleware: the /xapi/ routes, everything else to moto."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/xapi/"):
            return self.app(environ, start_response)
        try:
            if path == "/xapi/patches" and environ["REQUEST_METHOD"] == "GET":
                body = [{k: v for k, v in p.items() if k != "apply"} for p in PATCHES]
            elif path == "/xapi/deployment-policies" and environ["REQUEST_METHOD"] == "GET":
                from urllib.parse import parse_qsl

                body = deployment_policies(dict(parse_qsl(environ.get("QUERY_STRING", ""))))
            elif path == "/xapi/network" and environ["REQUEST_METHOD"] == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = create_network(json.loads(environ["wsgi.input"].read(length)))
            else:
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [json.dumps({"error": f"no route {path}"}).encode()]
        except Exception as err:  # a bad fixture request is the caller's to see
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [json.dumps({"error": f"{type(err).__name__}: {err}"}).encode()]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the emulator listens on loopback only")
    for p in PATCHES:
        p["apply"]()
    app = XapiRoutes(DomainDispatcherApplication(create_backend_app))
    server = make_server(args.host, args.port, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    import moto

    print(f"aws-emulator: moto {moto.__version__} on http://{args.host}:{args.port} with {len(PATCHES)} patches: "
          + ", ".join(p["name"] for p in PATCHES), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
