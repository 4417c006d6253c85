// Not from the seed: the seed's OcrService (OcrService.java) has no main(). This calls its methods as an
// application would and prints what the seed's response classes hold, for tests/test_seed_java_clients.py:
//   recognize <image>          OcrService.recognizeImage
//   batch <book_id> <folder>   OcrService.processBatchScan (prints the seed's own progress lines)
//   status <task_id>           OcrService.getTaskStatus
import java.io.File;

public class SeedSpringMain {
    public static void main(String[] args) {
        OcrService service = new OcrService();
        switch (args[0]) {
            case "recognize": {
                OcrResponse result = service.recognizeImage(new File(args[1]));
                System.out.println("success: " + result.isSuccess());
                System.out.println("processingTime: " + result.getProcessingTime());
                System.out.println("text: " + result.getText());
                break;
            }
            case "batch":
                service.processBatchScan(args[1], args[2]);
                break;
            case "status": {
                TaskStatusResponse status = service.getTaskStatus(args[1]);
                System.out.println("taskId: " + status.getTaskId());
                System.out.println("status: " + status.getStatus());
                System.out.println("progress: " + status.getProgress());
                System.out.println("processedFiles: " + status.getProcessedFiles());
                System.out.println("successFiles: " + status.getSuccessFiles());
                System.out.println("error: " + status.getError());
                break;
            }
            default:
                throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }
}
