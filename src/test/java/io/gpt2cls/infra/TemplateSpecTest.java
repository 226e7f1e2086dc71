package io.gpt2cls.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.error.YAMLException;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * infra/template.yaml against AWS's own resource specification (@aws-cdk/aws-service-spec, committed
 * subset in infra/spec/), and proof that the validator catches what it claims to.
 */
class TemplateSpecTest {

    static ServiceSpec spec;
    static String template;

    @BeforeAll
    static void load() throws IOException {
        spec = ServiceSpec.load();
        template = Files.readString(Template.FILE);
    }

    private static List<String> errorsOf(String yaml) {
        return TemplateValidator.validate(CfnYaml.parse(yaml), spec);
    }

    /** The deployed template with one piece of text replaced; the replaced text must be there. */
    private static List<String> errorsWith(String original, String replacement) {
        assertTrue(template.contains(original), "the template no longer contains: " + original);
        return errorsOf(template.replace(original, replacement));
    }

    @Test
    void theTemplateMatchesTheSpecification() {
        assertEquals(List.of(), errorsOf(template));
    }

    @Test
    void aMisspelledNestedPropertyIsReported() {
        List<String> errors = errorsWith("            NoncurrentVersionExpiration:\n              NoncurrentDays:",
                "            NoncurrentVersionExpiration:\n              NoncurrentDay:");
        assertEquals(List.of(
                "Resources.DataBucket.Properties.LifecycleConfiguration.Rules[0].NoncurrentVersionExpiration.NoncurrentDay: no such"
                        + " property; did you mean NoncurrentDays? the properties are [NewerNoncurrentVersions, NoncurrentDays]",
                "Resources.DataBucket.Properties.LifecycleConfiguration.Rules[0].NoncurrentVersionExpiration: required property"
                        + " NoncurrentDays is missing"), errors);
    }

    @Test
    void aMisspelledPropertyInsideAServerlessEventIsReported() {
        List<String> errors = errorsWith("            InputPath: \"$.detail\"", "            InputPth: \"$.detail\"");
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).startsWith("Resources.BatchClassifyStateMachine.Properties.Events.BatchInputUpload.Properties.InputPth:"
                + " no such property; did you mean InputPath?"), errors.get(0));
    }

    @Test
    void aMissingRequiredPropertyIsReported() {
        List<String> errors = errorsWith("      Priority: 1\n", "");
        assertEquals(List.of("Resources.FinetuneJobQueue.Properties: required property Priority is missing"), errors);
    }

    @Test
    void aListWhereAnObjectBelongsIsReported() {
        List<String> errors = errorsWith("      Timeout:\n        AttemptDurationSeconds: !Ref FinetuneTimeoutSeconds",
                "      Timeout:\n        - AttemptDurationSeconds: !Ref FinetuneTimeoutSeconds");
        assertEquals(1, errors.size(), errors.toString());
        assertTrue(errors.get(0).startsWith("Resources.FinetuneJobDefinition.Properties.Timeout: expected an object"), errors.get(0));
    }

    @Test
    void anUnknownResourceTypeIsReported() {
        List<String> errors = errorsWith("Type: AWS::Batch::JobQueue", "Type: AWS::Batch::JobQeue");
        assertEquals(List.of("Resources.FinetuneJobQueue.Type: AWS::Batch::JobQeue is not a resource type in @aws-cdk/aws-service-spec@0.1.216"),
                errors);
    }

    @Test
    void aTypeOutsideTheCommittedSubsetAsksForARegeneration() {
        List<String> errors = errorsOf("Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n");
        assertEquals(List.of("Resources.Table.Type: AWS::DynamoDB::Table is not in the committed spec subset; run infra/spec/update-spec.sh"),
                errors);
    }

    @Test
    void referencesToUnknownNamesAreReported() {
        assertEquals(List.of("Resources.FinetuneJobQueue.Properties.ComputeEnvironmentOrder[0].ComputeEnvironment: Ref names"
                + " 'FinetuneComputeEnv', which is no parameter, resource or pseudo parameter"),
                errorsWith("ComputeEnvironment: !Ref FinetuneComputeEnvironment", "ComputeEnvironment: !Ref FinetuneComputeEnv"));
        assertEquals(java.util.stream.Stream.of("PrepareFunction", "PreparePlanFunction", "PrepareMapFunction", "PrepareReduceFunction")
                .map(function -> "Resources." + function + ".Properties.Environment.Variables.GPT2CLS_STORE_ALLOWED_LOCATIONS"
                        + " ${Bucket}: Ref names 'Bucket', which is no parameter, resource or pseudo parameter").toList(),
                errorsWith("\"s3://${BucketName}/raw,", "\"s3://${Bucket}/raw,"));
        List<String> attribute = errorsWith("!GetAtt FinetuneInstanceProfile.Arn", "!GetAtt FinetuneInstanceProfile.RoleArn");
        assertEquals(1, attribute.size(), attribute.toString());
        assertTrue(attribute.get(0).endsWith("AWS::IAM::InstanceProfile has no attribute 'RoleArn'; it has [Arn]"), attribute.get(0));
        assertEquals(List.of("Outputs.ClassifyUrl.Value: GetAtt names 'ClassifyFunctionURL', which is no resource"),
                errorsWith("!GetAtt ClassifyFunctionUrl.FunctionUrl", "!GetAtt ClassifyFunctionURL.FunctionUrl"));
    }

    @Test
    void aConditionalResourceIsNamedOnlyWhereItsConditionHolds() {
        List<String> errors = errorsWith("""
                        Image: !If
                          - BuildsFinetuneImage
                          - !If [HasFinetuneImageDigest, !Sub "${FinetuneRepository.RepositoryUri}@${FinetuneImageDigest}",
                                 !Sub "${FinetuneRepository.RepositoryUri}:latest"]
                          - !Ref FinetuneImageUri
                """, """
                        Image: !Sub "${FinetuneRepository.RepositoryUri}:latest"
                """);
        assertEquals(List.of("Resources.FinetuneJobDefinition.Properties.ContainerProperties.Image ${FinetuneRepository.RepositoryUri}:"
                + " 'FinetuneRepository' exists only when condition BuildsFinetuneImage holds; refer to it inside"
                + " Fn::If [BuildsFinetuneImage, ...] or from a resource with that Condition"), errors);
    }

    @Test
    void stateMachinePlaceholdersNeedSubstitutions() {
        List<String> errors = errorsWith("        ClassifyFunctionAlias: !Ref ClassifyFunction.Alias\n", "");
        assertEquals(List.of("Resources.BatchClassifyStateMachine.Properties.Definition: ${ClassifyFunctionAlias} has no"
                + " DefinitionSubstitutions entry"), errors);
    }

    @Test
    void unknownConditionsAndDependenciesAreReported() {
        List<String> condition = errorsWith("    Condition: CreatesNetwork\n    Properties:\n      CidrBlock",
                "    Condition: CreateNetwork\n    Properties:\n      CidrBlock");
        assertEquals("Resources.FinetuneVpc.Condition: no condition named 'CreateNetwork'", condition.get(0));
        // and the VPC's users, under CreatesNetwork, now name a resource that exists under another condition
        assertTrue(condition.get(1).startsWith("Resources.FinetuneGatewayAttachment.Properties.VpcId: 'FinetuneVpc' exists only"
                + " when condition CreateNetwork holds"), condition.get(1));
        assertEquals(List.of("Resources.ClassifyFunction.DependsOn: no resource named 'ClassifyLogs'"),
                errorsWith("DependsOn: ClassifyLogGroup", "DependsOn: ClassifyLogs"));
    }

    @Test
    void yamlThatCloudFormationRefusesIsRefused() {
        assertThrows(YAMLException.class, () -> CfnYaml.parse("Resources:\n  A: &x {Type: AWS::SNS::Topic}\n  B: *x\n"));
        assertThrows(YAMLException.class, () -> CfnYaml.parse("Resources:\n  A: {Type: AWS::SNS::Topic}\n  A: {Type: AWS::SNS::Topic}\n"));
    }

    @Test
    void shortFormTagsBecomeTheirLongForms() {
        Object value = CfnYaml.parse("V: !If [C, !GetAtt A.B.C, !Sub 'x${Y}']\nW: !Ref Z\n");
        assertEquals("{V={Fn::If=[C, {Fn::GetAtt=[A, B.C]}, {Fn::Sub=x${Y}}]}, W={Ref=Z}}", value.toString());
    }
}
