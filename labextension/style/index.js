import './base.css';
import './scenarios.css';
