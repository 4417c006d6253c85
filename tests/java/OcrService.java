// From ../shared/seed/README.zh.md, "## Java 调用示例" / "### 使用 Spring Boot RestTemplate". The service
// class is the seed's, unchanged except for one added import; the seed leaves the rest to the reader, so:
//  - `import org.springframework.stereotype.Service;` added: the seed uses @Service without importing it.
//  - The data classes' "// getters and setters" written out (plain JavaBean accessors for the fields the
//    seed declares: what Jackson binds by default).
//  - `error` (with its accessors) added to TaskStatusResponse: processBatchScan calls status.getError().
//  - BatchScanRequest written: the seed uses it (setBookId, setDirectory, setLang, setRecursive) but never
//    declares it.
// At run time tests/test_seed_java_clients.py replaces "http://localhost:8000" with the live test server's
// URL before compiling; SeedSpringMain (not from the seed) calls these methods.
import org.springframework.core.io.FileSystemResource;
import org.springframework.http.*;
import org.springframework.stereotype.Service;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.util.MultiValueMap;
import org.springframework.web.client.RestTemplate;
import java.io.File;

@Service
public class OcrService {

    private final String API_URL = "http://localhost:8000";
    private final RestTemplate restTemplate = new RestTemplate();

    /**
     * 识别单张图片
     */
    public OcrResponse recognizeImage(File imageFile) {
        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(MediaType.MULTIPART_FORM_DATA);

        MultiValueMap<String, Object> body = new LinkedMultiValueMap<>();
        body.add("file", new FileSystemResource(imageFile));
        body.add("lang", "ch");
        body.add("use_angle_cls", "true");

        HttpEntity<MultiValueMap<String, Object>> requestEntity = new HttpEntity<>(body, headers);

        ResponseEntity<OcrResponse> response = restTemplate.postForEntity(
            API_URL + "/api/ocr/recognize",
            requestEntity,
            OcrResponse.class
        );

        return response.getBody();
    }

    /**
     * 批量扫描（创建任务）
     */
    public TaskResponse createBatchTask(BatchScanRequest request) {
        HttpHeaders headers = new HttpHeaders();
        headers.setContentType(MediaType.APPLICATION_JSON);

        HttpEntity<BatchScanRequest> requestEntity = new HttpEntity<>(request, headers);

        ResponseEntity<TaskResponse> response = restTemplate.postForEntity(
            API_URL + "/api/ocr/batch/scan",
            requestEntity,
            TaskResponse.class
        );

        return response.getBody();
    }

    /**
     * 启动任务
     */
    public void startTask(String taskId) {
        restTemplate.postForEntity(
            API_URL + "/api/ocr/batch/start/" + taskId,
            null,
            Void.class
        );
    }

    /**
     * 查询任务状态（支持轮询）
     */
    public TaskStatusResponse getTaskStatus(String taskId) {
        return restTemplate.getForObject(
            API_URL + "/api/ocr/batch/status/" + taskId,
            TaskStatusResponse.class
        );
    }

    /**
     * 完整的批量扫描流程
     */
    public void processBatchScan(String bookId, String directory) {
        // 1. 创建任务
        BatchScanRequest scanRequest = new BatchScanRequest();
        scanRequest.setBookId(bookId);
        scanRequest.setDirectory(directory);
        scanRequest.setLang("ch");
        scanRequest.setRecursive(true);

        TaskResponse taskResponse = createBatchTask(scanRequest);
        String taskId = taskResponse.getTaskId();
        System.out.println("任务已创建: " + taskId);

        // 2. 启动任务
        startTask(taskId);
        System.out.println("任务已启动");

        // 3. 轮询状态
        while (true) {
            TaskStatusResponse status = getTaskStatus(taskId);
            System.out.println("进度: " + status.getProgress() + "%");

            if ("completed".equals(status.getStatus())) {
                System.out.println("任务完成!");
                break;
            } else if ("failed".equals(status.getStatus())) {
                System.out.println("任务失败: " + status.getError());
                break;
            }

            try {
                Thread.sleep(5000); // 每5秒检查一次
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
    }
}

// 数据模型类
class OcrResponse {
    private boolean success;
    private String text;
    private double processingTime;
    // getters and setters
    public boolean isSuccess() { return success; }
    public void setSuccess(boolean success) { this.success = success; }
    public String getText() { return text; }
    public void setText(String text) { this.text = text; }
    public double getProcessingTime() { return processingTime; }
    public void setProcessingTime(double processingTime) { this.processingTime = processingTime; }
}

class TaskResponse {
    private String taskId;
    private boolean success;
    // getters and setters
    public String getTaskId() { return taskId; }
    public void setTaskId(String taskId) { this.taskId = taskId; }
    public boolean isSuccess() { return success; }
    public void setSuccess(boolean success) { this.success = success; }
}

class TaskStatusResponse {
    private String taskId;
    private String status;
    private double progress;
    private int processedFiles;
    private int successFiles;
    private String error;
    // getters and setters
    public String getTaskId() { return taskId; }
    public void setTaskId(String taskId) { this.taskId = taskId; }
    public String getStatus() { return status; }
    public void setStatus(String status) { this.status = status; }
    public double getProgress() { return progress; }
    public void setProgress(double progress) { this.progress = progress; }
    public int getProcessedFiles() { return processedFiles; }
    public void setProcessedFiles(int processedFiles) { this.processedFiles = processedFiles; }
    public int getSuccessFiles() { return successFiles; }
    public void setSuccessFiles(int successFiles) { this.successFiles = successFiles; }
    public String getError() { return error; }
    public void setError(String error) { this.error = error; }
}

class BatchScanRequest {
    private String bookId;
    private String directory;
    private String lang;
    private boolean recursive;
    // getters and setters
    public String getBookId() { return bookId; }
    public void setBookId(String bookId) { this.bookId = bookId; }
    public String getDirectory() { return directory; }
    public void setDirectory(String directory) { this.directory = directory; }
    public String getLang() { return lang; }
    public void setLang(String lang) { this.lang = lang; }
    public boolean isRecursive() { return recursive; }
    public void setRecursive(boolean recursive) { this.recursive = recursive; }
}
