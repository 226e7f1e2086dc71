package io.gpt2cls.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import io.gpt2cls.function.AppConfig;

/**
 * How infra/template.yaml wires the code: which function each Lambda exports, which settings it gets,
 * what each role may touch in the bucket, how Batch retries fine-tuning, how the batch classification
 * state machine calls classify. The event payloads themselves are checked in DeploymentEventsTest.
 */
class TemplateWiringTest {

    static final Template T = Template.load();
    static final String BUCKET_ARN = "arn:aws:s3:::" + Template.BUCKET;

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object value) {
        return value instanceof List<?> l ? (List<Object>) l : List.of(value);
    }

    /** A Lambda function's environment variables, resolved. */
    static Map<String, Object> environment(String function) {
        return map(T.resolve(map(T.properties(function).get("Environment")).get("Variables")));
    }

    /** The fine-tuning job's environment variables, resolved. */
    static Map<String, Object> jobEnvironment() {
        Map<String, Object> variables = new LinkedHashMap<>();
        for (Object entry : list(map(T.properties("FinetuneJobDefinition").get("ContainerProperties")).get("Environment"))) {
            variables.put((String) map(entry).get("Name"), T.resolve(map(entry).get("Value")));
        }
        return variables;
    }

    // ---- what runs where ----------------------------------------------------------------------------

    @Test
    void eachLambdaExportsItsOwnFunction() {
        Set<String> functions = AppSettings.functions();
        assertEquals(Set.of("prepare", "prepareMap", "prepareReduce", "finetune", "classify"), functions);
        Map<String, String> exports = new LinkedHashMap<>();
        for (String id : T.resourcesOfType("AWS::Serverless::Function")) {
            exports.put(id, (String) environment(id).get("QUARKUS_FUNQY_EXPORT"));
        }
        assertEquals(Map.of("PrepareFunction", "prepare", "PrepareMapFunction", "prepareMap", "PrepareReduceFunction", "prepareReduce",
                "ClassifyFunction", "classify"), exports);
        // the fine-tuning job runs the jar's finetune command (a batch container names its job)
        assertEquals("finetune", jobEnvironment().get("GPT2CLS_JOB"));
        assertTrue(AppSettings.commands().containsKey("finetune"));
    }

    @Test
    void everySettingTheTemplateGivesIsOneTheApplicationReads() {
        Set<String> known = AppSettings.environmentVariables();
        Set<String> given = new TreeSet<>();
        for (String id : T.resourcesOfType("AWS::Serverless::Function")) {
            given.addAll(environment(id).keySet());
        }
        given.addAll(jobEnvironment().keySet());
        for (String name : given) {
            if (name.startsWith("GPT2CLS_")) {
                assertTrue(known.contains(name), name + " is not a gpt2cls.* setting of AppConfig; they are " + known);
            }
        }
        assertTrue(given.containsAll(Set.of("GPT2CLS_STORE_ALLOWED_LOCATIONS", "GPT2CLS_CLASSIFY_MODEL", "GPT2CLS_CLASSIFY_LOAD_ON_START")));
    }

    @Test
    void eachRequestMayNameOnlyTheLocationsItsFunctionNeeds() {
        String s3 = "s3://" + Template.BUCKET + "/";
        assertEquals(s3 + "raw," + s3 + "prepared", environment("PrepareFunction").get("GPT2CLS_STORE_ALLOWED_LOCATIONS"));
        assertEquals(s3 + "models/spam", environment("ClassifyFunction").get("GPT2CLS_STORE_ALLOWED_LOCATIONS"));
        assertEquals(s3 + "prepared," + s3 + "base-models," + s3 + "models", jobEnvironment().get("GPT2CLS_STORE_ALLOWED_LOCATIONS"));
        assertEquals(s3 + "models/spam", environment("ClassifyFunction").get("GPT2CLS_CLASSIFY_MODEL"));
    }

    @Test
    void classifyIsWarmWhereProvisionedAndReachableByUrlAndAlias() {
        Map<String, Object> classify = T.properties("ClassifyFunction");
        assertEquals("live", classify.get("AutoPublishAlias"));
        List<Object> provisioned = list(map(classify.get("ProvisionedConcurrencyConfig")).get("Fn::If"));
        assertEquals("HasProvisionedConcurrency", provisioned.get(0));
        assertEquals(Map.of("ProvisionedConcurrentExecutions", Map.of("Ref", "ClassifyProvisionedConcurrency")), provisioned.get(1));
        assertEquals(Map.of("Ref", "AWS::NoValue"), provisioned.get(2));
        assertEquals("0", String.valueOf(map(T.section("Parameters").get("ClassifyProvisionedConcurrency")).get("Default")));
        assertEquals(List.of("HasProvisionedConcurrency", "true", "false"),
                list(map(map(map(classify.get("Environment")).get("Variables")).get("GPT2CLS_CLASSIFY_LOAD_ON_START")).get("Fn::If")));
        assertEquals(Map.of("AuthType", Map.of("Ref", "ClassifyUrlAuthType")), classify.get("FunctionUrlConfig"));
        assertEquals("AWS_IAM", map(T.section("Parameters").get("ClassifyUrlAuthType")).get("Default"));
        assertEquals("2048", String.valueOf(map(T.section("Parameters").get("ClassifyMemoryMiB")).get("Default")));
        assertEquals("Image", classify.get("PackageType"));
        assertEquals("Image", T.properties("PrepareFunction").get("PackageType"));
    }

    @Test
    void prepareIsSizedForLambdasLimits() {
        Map<String, Object> prepare = T.properties("PrepareFunction");
        assertEquals(900, prepare.get("Timeout"));
        assertEquals(Map.of("Size", Map.of("Ref", "PrepareEphemeralStorageMiB")), prepare.get("EphemeralStorage"));
        assertEquals(10240, map(T.section("Parameters").get("PrepareEphemeralStorageMiB")).get("MaxValue"));
        assertEquals(0, map(prepare.get("EventInvokeConfig")).get("MaximumRetryAttempts"));
    }

    // ---- least privilege ----------------------------------------------------------------------------

    /** Every role's Allow statements, by the resource that declares them (SAM Policies or an IAM role). */
    static Map<String, List<Map<String, Object>>> allowStatements() {
        Map<String, List<Map<String, Object>>> byOwner = new LinkedHashMap<>();
        T.section("Resources").forEach((id, value) -> {
            Map<String, Object> resource = map(value);
            Map<String, Object> properties = map(resource.getOrDefault("Properties", Map.of()));
            List<Object> documents = new ArrayList<>();
            if (String.valueOf(resource.get("Type")).startsWith("AWS::Serverless::") && properties.containsKey("Policies")) {
                documents.addAll(list(properties.get("Policies")));
            } else if ("AWS::IAM::Role".equals(resource.get("Type"))) {
                for (Object policy : list(properties.getOrDefault("Policies", List.of()))) {
                    documents.add(map(policy).get("PolicyDocument"));
                }
            }
            List<Map<String, Object>> statements = new ArrayList<>();
            for (Object document : documents) {
                assertTrue(document instanceof Map, id + ": policies are written out here, not named managed policies");
                for (Object statement : list(map(T.resolve(document)).get("Statement"))) {
                    if ("Allow".equals(map(statement).get("Effect"))) {
                        statements.add(map(statement));
                    }
                }
            }
            if (!statements.isEmpty() || "AWS::IAM::Role".equals(resource.get("Type"))) {
                byOwner.put(id, statements);
            }
        });
        return byOwner;
    }

    /** What a role may do in the bucket: "action prefix" pairs (prefix "" for the bucket itself, with its listing condition). */
    static Set<String> s3Access(List<Map<String, Object>> statements) {
        Set<String> access = new TreeSet<>();
        for (Map<String, Object> statement : statements) {
            for (Object action : list(statement.get("Action"))) {
                if (!String.valueOf(action).startsWith("s3:")) {
                    continue;
                }
                assertFalse(String.valueOf(action).contains("*"), "a wildcard S3 action: " + statement);
                for (Object resource : list(statement.get("Resource"))) {
                    String arn = String.valueOf(resource);
                    if (arn.equals(BUCKET_ARN)) {
                        assertEquals("s3:ListBucket", action, "only listing is granted on the bucket itself: " + statement);
                        Map<String, Object> like = map(map(statement.get("Condition")).get("StringLike"));
                        for (Object prefix : list(like.get("s3:prefix"))) {
                            access.add(action + " " + prefix);
                        }
                        assertEquals(Set.of("StringLike"), map(statement.get("Condition")).keySet());
                    } else {
                        assertTrue(arn.startsWith(BUCKET_ARN + "/") && arn.endsWith("/*") && !arn.equals(BUCKET_ARN + "/*"),
                                "S3 access must name a prefix of the bucket: " + arn + " in " + statement);
                        access.add(action + " " + arn.substring(BUCKET_ARN.length() + 1));
                    }
                }
            }
        }
        return access;
    }

    @Test
    void eachRoleReachesOnlyItsPrefixesOfTheBucket() {
        Map<String, List<Map<String, Object>>> roles = allowStatements();
        assertEquals(Set.of("s3:GetObject raw/*", "s3:PutObject prepared/*", "s3:DeleteObject prepared/*", "s3:AbortMultipartUpload prepared/*",
                "s3:ListBucket raw/*", "s3:ListBucket prepared/*"), s3Access(roles.get("PrepareFunction")));
        assertEquals(Set.of("s3:GetObject prepared/*", "s3:GetObject base-models/*", "s3:GetObject models/*",
                "s3:PutObject models/*", "s3:DeleteObject models/*", "s3:AbortMultipartUpload models/*",
                "s3:ListBucket prepared/*", "s3:ListBucket base-models/*", "s3:ListBucket models/*"), s3Access(roles.get("FinetuneJobRole")));
        assertEquals(Set.of("s3:GetObject models/spam/*", "s3:ListBucket models/spam", "s3:ListBucket models/spam/*"),
                s3Access(roles.get("ClassifyFunction")));
        assertEquals(Set.of("s3:GetObject batch/input/*", "s3:PutObject batch/results/*", "s3:GetObject batch/results/*",
                "s3:ListMultipartUploadParts batch/results/*", "s3:AbortMultipartUpload batch/results/*"),
                s3Access(roles.get("BatchClassifyStateMachine")));
        Set<String> mapAndReduce = Set.of("s3:GetObject raw/*", "s3:PutObject prepared/*", "s3:DeleteObject prepared/*",
                "s3:AbortMultipartUpload prepared/*", "s3:ListBucket raw/*", "s3:ListBucket prepared/*");
        assertEquals(mapAndReduce, s3Access(roles.get("PrepareMapFunction")));
        Set<String> reduce = new TreeSet<>(mapAndReduce);
        reduce.add("s3:GetObject prepared/*");
        assertEquals(reduce, s3Access(roles.get("PrepareReduceFunction")));
        assertEquals(Set.of("s3:ListBucket raw/*", "s3:PutObject prepare-runs/*", "s3:GetObject prepare-runs/*",
                "s3:ListMultipartUploadParts prepare-runs/*", "s3:AbortMultipartUpload prepare-runs/*"),
                s3Access(roles.get("PrepareStateMachine")));
        assertEquals(Set.of(), s3Access(roles.get("FinetuneSubmitRole")));
        assertEquals(Set.of(), s3Access(roles.get("FinetuneInstanceRole")));
        assertEquals(Set.of("PrepareFunction", "PrepareMapFunction", "PrepareReduceFunction", "PrepareStateMachine", "ClassifyFunction",
                "BatchClassifyStateMachine", "FinetuneSubmitRole", "FinetuneJobRole", "FinetuneInstanceRole"), roles.keySet());
    }

    /** What Step Functions needs to deliver logs (AWS documents these with Resource "*"). */
    static final Set<String> LOG_DELIVERY = Set.of("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups");

    @Test
    void noStatementGrantsEverythingExceptLogDelivery() {
        allowStatements().forEach((owner, statements) -> {
            for (Map<String, Object> statement : statements) {
                if (list(statement.get("Resource")).contains("*")) {
                    for (Object action : list(statement.get("Action"))) {
                        assertTrue(LOG_DELIVERY.contains(action),
                                owner + ": '*' is only for CloudWatch Logs delivery, which has no resource-level permissions: " + statement);
                    }
                }
            }
        });
    }

    @Test
    void theStateMachineInvokesClassifysAliasAndNothingElse() {
        List<Map<String, Object>> statements = allowStatements().get("BatchClassifyStateMachine");
        List<Object> invoked = new ArrayList<>();
        for (Map<String, Object> statement : statements) {
            if (list(statement.get("Action")).contains("lambda:InvokeFunction")) {
                invoked.addAll(list(statement.get("Resource")));
            }
        }
        assertEquals(List.of("arn-of:ClassifyFunction.Alias"), invoked);
        assertEquals(Map.of("Ref", "ClassifyFunction.Alias"),
                map(T.properties("BatchClassifyStateMachine").get("DefinitionSubstitutions")).get("ClassifyFunctionAlias"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theDistributedPrepareRunsMapTasksAndTheReduceOnTheSameImageAndNothingElse() {
        for (String function : List.of("PrepareMapFunction", "PrepareReduceFunction")) {
            Map<String, Object> properties = T.properties(function);
            assertEquals(T.properties("PrepareFunction").get("ImageUri"), properties.get("ImageUri"), function);
            assertEquals(T.resource("PrepareFunction").get("Metadata"), T.resource(function).get("Metadata"), function);
            assertEquals(900, properties.get("Timeout"), function);
            assertEquals(environment("PrepareFunction").get("GPT2CLS_STORE_ALLOWED_LOCATIONS"),
                    environment(function).get("GPT2CLS_STORE_ALLOWED_LOCATIONS"));
        }
        List<Object> invoked = new ArrayList<>();
        for (Map<String, Object> statement : allowStatements().get("PrepareStateMachine")) {
            if (list(statement.get("Action")).contains("lambda:InvokeFunction")) {
                invoked.addAll(list(statement.get("Resource")));
            }
        }
        assertEquals(List.of("PrepareMapFunction.Arn", "PrepareReduceFunction.Arn"), invoked);
        Map<String, Object> states = map(map(T.properties("PrepareStateMachine").get("Definition")).get("States"));
        // the two Map states differ in the input they list and their inner states' names only
        String train = T.json(states.get("MapTrain")).toString().replace("$.train.", "$.INPUT.").replace("\"train\"", "\"INPUT\"")
                .replace("train_map", "INPUT_map");
        String test = T.json(states.get("MapTest")).toString().replace("$.test.", "$.INPUT.").replace("\"test\"", "\"INPUT\"")
                .replace("test_map", "INPUT_map").replace("TestMapTask", "MapTask").replace("CheckTestMapAnswer", "CheckMapAnswer")
                .replace("\"Next\":\"Reduce\"", "\"Next\":\"HasTestInput\"");
        assertEquals(train, test);
        assertEquals("1", String.valueOf(map(T.section("Parameters").get("PrepareMapConcurrency")).get("MinValue")));
        assertEquals(Map.of("Ref", "PrepareStateMachine"), T.properties("PrepareFunction") == null ? null
                : map(map(T.properties("PrepareFunction").get("Environment")).get("Variables")).get("GPT2CLS_PREPARE_STATE_MACHINE"));
    }

    @Test
    void eventBridgeMaySubmitOnlyTheFinetuneJob() {
        Map<String, Object> target = map(list(T.properties("FinetuneOnManifest").get("Targets")).get(0));
        assertEquals(Map.of("Ref", "FinetuneJobQueue"), target.get("Arn"));
        assertEquals(Map.of("Ref", "FinetuneJobDefinition"), map(target.get("BatchParameters")).get("JobDefinition"));
        assertEquals(List.of("FinetuneSubmitRole", "Arn"), map(target.get("RoleArn")).get("Fn::GetAtt"));
        Map<String, Object> statement = allowStatements().get("FinetuneSubmitRole").get(0);
        assertEquals("batch:SubmitJob", statement.get("Action"));
        assertEquals(List.of("arn-of:FinetuneJobQueue", "arn-of:FinetuneJobDefinition"), statement.get("Resource"));
    }

    // ---- fine-tuning on AWS Batch -------------------------------------------------------------------

    /** AWS Batch's EvaluateOnExit: the first entry whose given conditions all match decides; none matching = RETRY. */
    static String batchAction(String statusReason, String reason, String exitCode) {
        Map<String, Object> retry = map(T.properties("FinetuneJobDefinition").get("RetryStrategy"));
        for (Object value : list(retry.get("EvaluateOnExit"))) {
            Map<String, Object> entry = map(value);
            if (glob(entry.get("OnStatusReason"), statusReason) && glob(entry.get("OnReason"), reason) && glob(entry.get("OnExitCode"), exitCode)) {
                return (String) entry.get("Action");
            }
        }
        return "RETRY";
    }

    private static boolean glob(Object pattern, String value) {
        return pattern == null || EventPattern.wildcard(String.valueOf(pattern), value == null ? "" : value);
    }

    @Test
    void batchRetriesLostHostsAndCheckpointedStopsButNotApplicationErrors() {
        Map<String, Object> retry = map(T.properties("FinetuneJobDefinition").get("RetryStrategy"));
        assertTrue((Integer) retry.get("Attempts") >= 3, "spot reclaims may come more than once");
        assertTrue(list(retry.get("EvaluateOnExit")).size() <= 5, "AWS Batch takes at most 5 EvaluateOnExit entries");
        assertEquals("RETRY", batchAction("Host EC2 (instance i-0a1b2c3d4e5f67890) terminated.", null, null));
        assertEquals("RETRY", batchAction("Essential container in task exited", null, "143"));
        assertEquals("EXIT", batchAction("Essential container in task exited", null, "1"));
        assertEquals("EXIT", batchAction("Essential container in task exited", null, "2"));
        assertEquals("EXIT", batchAction("Essential container in task exited", "OutOfMemoryError: Container killed due to memory usage", "137"));
        assertEquals("EXIT", batchAction("Task failed to start", "CannotPullContainerError: pull image manifest has been retried", null));
    }

    @Test
    void fineTuningRunsOnGpusThatScaleToZero() {
        Map<String, Object> resources = map(T.properties("FinetuneComputeEnvironment").get("ComputeResources"));
        assertEquals(0, resources.get("MinvCpus"));
        assertEquals(List.of("UsesSpot", "SPOT", "EC2"), map(resources.get("Type")).get("Fn::If"));
        assertEquals("g5,g6", map(T.section("Parameters").get("GpuInstanceTypes")).get("Default"));
        assertEquals(Map.of("Ref", "MaxvCpus"), resources.get("MaxvCpus"));
        assertEquals("ECS_AL2023_NVIDIA", map(list(resources.get("Ec2Configuration")).get(0)).get("ImageType"));
        Set<Object> requirements = new TreeSet<>();
        for (Object r : list(map(T.properties("FinetuneJobDefinition").get("ContainerProperties")).get("ResourceRequirements"))) {
            requirements.add(map(r).get("Type"));
        }
        assertEquals(Set.of("GPU", "VCPU", "MEMORY"), requirements);
        assertEquals(List.of("EC2"), T.properties("FinetuneJobDefinition").get("PlatformCapabilities"));
        assertNotNull(map(T.properties("FinetuneJobDefinition").get("Timeout")).get("AttemptDurationSeconds"));
        assertEquals(Map.of("Ref", "FinetuneComputeEnvironment"),
                map(list(T.properties("FinetuneJobQueue").get("ComputeEnvironmentOrder")).get(0)).get("ComputeEnvironment"));
    }

    // ---- batch classification -----------------------------------------------------------------------

    static Map<String, Object> state(String name) {
        return map(map(map(T.properties("BatchClassifyStateMachine").get("Definition")).get("States")).get(name));
    }

    @Test
    void bothReadersBatchItemsForClassifyAndWriteResultsUnderBatchResults() {
        Map<String, Object> jsonLines = state("ClassifyJsonLines");
        Map<String, Object> csv = state("ClassifyCsvRows");
        assertEquals(Map.of("InputType", "JSONL"), map(map(jsonLines.get("ItemReader")).get("ReaderConfig")));
        assertEquals(Map.of("InputType", "CSV", "CSVHeaderLocation", "FIRST_ROW"), map(map(csv.get("ItemReader")).get("ReaderConfig")));
        Map<String, Object> same = new LinkedHashMap<>(csv);
        Map<String, Object> reader = new LinkedHashMap<>(map(csv.get("ItemReader")));
        reader.put("ReaderConfig", map(jsonLines.get("ItemReader")).get("ReaderConfig"));
        same.put("ItemReader", reader);
        assertEquals(jsonLines, same, "the two Map states differ only in their ReaderConfig");

        assertEquals(Map.of("Mode", "DISTRIBUTED", "ExecutionType", "STANDARD"), map(map(jsonLines.get("ItemProcessor")).get("ProcessorConfig")));
        Map<String, Object> batcher = map(jsonLines.get("ItemBatcher"));
        assertEquals(Integer.valueOf(AppSettings.defaultOf(AppConfig.Classify.class, "maxTexts")), batcher.get("MaxItemsPerBatch"));
        assertTrue((Integer) batcher.get("MaxInputBytesPerBatch") < 256 * 1024, "Step Functions' payload limit");
        assertNotNull(jsonLines.get("ToleratedFailurePercentage"));
        Map<String, Object> writer = map(jsonLines.get("ResultWriter"));
        assertEquals(Map.of("Bucket", "${BucketName}", "Prefix", "batch/results"), writer.get("Parameters"));
        assertEquals(Map.of("OutputType", "JSONL", "Transformation", "FLATTEN"), writer.get("WriterConfig"));
    }

    @Test
    void classifyIsCalledWithTheBatchAndRetriedOnLambdaServiceErrors() {
        Map<String, Object> states = map(map(state("ClassifyJsonLines").get("ItemProcessor")).get("States"));
        Map<String, Object> classify = map(states.get("Classify"));
        assertEquals("arn:aws:states:::lambda:invoke", classify.get("Resource"));
        assertEquals(Map.of("FunctionName", "${ClassifyFunctionAlias}", "Payload.$", "$"), classify.get("Parameters"));
        Set<Object> retried = new TreeSet<>();
        for (Object retrier : list(classify.get("Retry"))) {
            retried.addAll(list(map(retrier).get("ErrorEquals")));
        }
        assertTrue(retried.containsAll(Set.of("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException")), retried.toString());
        // classify answers a bad batch with {"error": {...}} (not an exception): the batch fails, and counts
        // against ToleratedFailurePercentage, with classify's own message
        Map<String, Object> check = map(states.get(classify.get("Next")));
        Map<String, Object> onError = map(list(check.get("Choices")).get(0));
        assertEquals("$.answer.error", onError.get("Variable"));
        Map<String, Object> refused = map(states.get(onError.get("Next")));
        assertEquals("Fail", refused.get("Type"));
        assertEquals("$.answer.error.message", refused.get("CausePath"));
        assertEquals("$.answer.results", map(states.get(check.get("Default"))).get("OutputPath"));
    }

    // ---- storage, logs, outputs ---------------------------------------------------------------------

    @Test
    void theBucketIsPrivateEncryptedVersionedAndAnnouncesUploads() {
        Map<String, Object> bucket = T.properties("DataBucket");
        assertEquals(Map.of("BlockPublicAcls", true, "BlockPublicPolicy", true, "IgnorePublicAcls", true, "RestrictPublicBuckets", true),
                bucket.get("PublicAccessBlockConfiguration"));
        assertNotNull(map(map(list(map(bucket.get("BucketEncryption")).get("ServerSideEncryptionConfiguration")).get(0))
                .get("ServerSideEncryptionByDefault")).get("SSEAlgorithm"));
        assertEquals(Map.of("Status", "Enabled"), bucket.get("VersioningConfiguration"));
        assertEquals(Map.of("EventBridgeConfiguration", Map.of("EventBridgeEnabled", true)), bucket.get("NotificationConfiguration"));
        List<Object> rules = list(map(bucket.get("LifecycleConfiguration")).get("Rules"));
        assertTrue(rules.stream().anyMatch(r -> map(r).containsKey("NoncurrentVersionExpiration")));
        assertTrue(rules.stream().anyMatch(r -> map(r).containsKey("AbortIncompleteMultipartUpload")));
        assertEquals("Retain", T.resource("DataBucket").get("DeletionPolicy"));
    }

    @Test
    void everyFunctionJobAndStateMachineLogsToAGroupWithRetention() {
        for (String function : T.resourcesOfType("AWS::Serverless::Function")) {
            String name = (String) T.resolve(T.properties(function).get("FunctionName"));
            String group = (String) T.resource(function).get("DependsOn");
            assertEquals("/aws/lambda/" + name, T.resolve(T.properties(group).get("LogGroupName")), function);
        }
        Map<String, Object> logging = map(map(T.properties("FinetuneJobDefinition").get("ContainerProperties")).get("LogConfiguration"));
        assertEquals(Map.of("Ref", "FinetuneLogGroup"), map(logging.get("Options")).get("awslogs-group"));
        assertEquals(List.of("BatchClassifyLogGroup", "Arn"), map(map(map(list(map(T.properties("BatchClassifyStateMachine").get("Logging"))
                .get("Destinations")).get(0)).get("CloudWatchLogsLogGroup")).get("LogGroupArn")).get("Fn::GetAtt"));
        for (String group : T.resourcesOfType("AWS::Logs::LogGroup")) {
            assertEquals(Map.of("Ref", "LogRetentionDays"), T.properties(group).get("RetentionInDays"), group);
        }
        assertEquals(List.of("PrepareStateMachineLogGroup", "Arn"), map(map(map(list(map(T.properties("PrepareStateMachine").get("Logging"))
                .get("Destinations")).get(0)).get("CloudWatchLogsLogGroup")).get("LogGroupArn")).get("Fn::GetAtt"));
        assertEquals(7, T.resourcesOfType("AWS::Logs::LogGroup").size());
    }

    @Test
    void theOutputsNameWhatAUserCalls() {
        assertEquals(Set.of("DataBucketName", "PrepareFunctionArn", "ClassifyFunctionArn", "ClassifyFunctionAlias", "ClassifyUrl",
                "FinetuneJobQueueArn", "FinetuneJobDefinitionArn", "FinetuneRepositoryUri", "BatchClassifyStateMachineArn",
                "PrepareStateMachineArn"),
                T.section("Outputs").keySet());
    }
}
